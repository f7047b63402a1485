"""The transparency log's formats (RFC 9162 Merkle trees, C2SP tiles, signed notes, witnesses):
plain Python with no Django, so a witness or a mirror can use them without the site."""
