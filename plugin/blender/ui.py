"""The Inpaint panel: Compositor > Sidebar (N) > Inpaint."""

from __future__ import annotations

import bpy

from plugin.core import KNOBS


class INPAINT_PT_panel(bpy.types.Panel):
    bl_space_type = "NODE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Inpaint"
    bl_label = "Inpaint"

    @classmethod
    def poll(cls, context):
        return getattr(context.space_data, "tree_type", "") == "CompositorNodeTree"

    def draw(self, context):
        layout = self.layout
        props = context.scene.inpaint
        tree = context.scene.compositing_node_group
        if tree is None:
            layout.label(text="Add a compositor node tree first", icon="INFO")
            return
        layout.prop_search(props, "plate_node", tree, "nodes")
        layout.prop(props, "matte_source", expand=True)
        if props.matte_source == "MASK":
            layout.prop(props, "mask")
        else:
            layout.prop_search(props, "matte_node", tree, "nodes")
        layout.prop_search(props, "reference_node", tree, "nodes")
        col = layout.column()
        for knob in KNOBS:
            row = col.row()
            row.enabled = knob.name not in ("first", "last") or props.frame_range == "custom"
            row.prop(props, knob.name)
        row = layout.row(align=True)
        row.operator("inpaint.render", icon="RENDER_STILL")
        row.operator("inpaint.cancel", icon="CANCEL")
        row.operator("inpaint.load_result", icon="IMAGE_DATA")
        if props.running:
            layout.progress(factor=props.progress / 100.0, text=props.status)
        else:
            layout.label(text=props.status, icon="ERROR" if props.status.startswith("ERROR") else "INFO")
