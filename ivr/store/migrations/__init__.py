"""Alembic migrations for the store, shipped in the package and run at start-up (``upgrade head``)."""
