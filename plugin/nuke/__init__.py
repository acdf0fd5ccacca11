"""Nuke front end. Set ``NUKE_PATH`` to this folder: ``init.py`` and ``menu.py`` do the rest."""
