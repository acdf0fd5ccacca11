"""Nuke startup (GUI, `nuke -t` and farm renders): only puts the plugin on Nuke's paths."""
import os

import nuke

nuke.pluginAddPath(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
