"""Nuke GUI startup: adds Nodes > Inpaint > Inpaint (Nuke reads menu.py only with a GUI)."""
import nuke

if nuke.GUI:
    from plugin.nuke import node

    node.install_menu()
