"""Pages of the disclosure app: public (``public``), files (``files``), staff (``staff``)."""
