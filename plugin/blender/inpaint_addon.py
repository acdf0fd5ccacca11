# Install this file in Blender (Preferences > Add-ons > Install from Disk); the package itself
# must be importable by Blender's Python (see docs/plugin.md). Blender reads bl_info as text.
bl_info = {
    "name": "Inpaint (internal-inpaint)",
    "author": "internal-inpaint",
    "version": (0, 1, 0),
    "blender": (5, 0, 0),
    "location": "Compositor > Sidebar > Inpaint",
    "description": "Fill a matte'd hole in an image sequence with a per-shot trained renderer",
    "category": "Compositing",
}

from plugin.blender import register, unregister  # noqa: E402,F401
