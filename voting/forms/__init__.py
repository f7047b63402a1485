"""Input forms of the voting app: they validate, services write."""
