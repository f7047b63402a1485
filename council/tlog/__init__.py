"""The transparency log: Merkle tree, tiles, signed checkpoints and witnesses (no Django)."""
