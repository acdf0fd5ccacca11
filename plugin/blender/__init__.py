"""Inpaint for Blender's compositor: the add-on's classes and its symmetric register/unregister.

Artists install ``inpaint_addon.py`` (a shim that imports this package); tests
call ``register()`` directly. All the work lives in ``props``, ``ops``, ``ui``
and ``gather``.
"""

bl_info = {
    "name": "Inpaint (internal-inpaint)",
    "author": "internal-inpaint",
    "version": (0, 1, 0),
    "blender": (5, 0, 0),
    "location": "Compositor > Sidebar > Inpaint",
    "description": "Fill a matte'd hole in an image sequence with a per-shot trained renderer",
    "category": "Compositing",
}

import bpy  # noqa: E402

from . import ops, props, ui  # noqa: E402

classes = (props.InpaintSettings, ops.INPAINT_OT_render, ops.INPAINT_OT_cancel, ops.INPAINT_OT_load_result,
           ui.INPAINT_PT_panel)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.inpaint = bpy.props.PointerProperty(type=props.InpaintSettings)


def unregister():
    ops.cancel_all()
    del bpy.types.Scene.inpaint
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
