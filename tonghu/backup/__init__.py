"""``tonghu backup`` and ``tonghu restore``: one archive holding the database and the files it
refers to (never the keys), and its restore into an empty database."""
