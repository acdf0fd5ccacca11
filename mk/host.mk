# Blender as a test host lives in its own venv (bpy pins numpy<2; OpenImageIO needs numpy>=2,
# so the host side takes the last OpenImageIO built for numpy 1). No torch here: the plugin
# reaches the renderer only through the bridge. The plugin and bridge come from the working
# tree (the Blender tests put the repo on PYTHONPATH), so editing them needs no reinstall.
HOST_VENV ?= .venv-host
HOST_PY   := $(HOST_VENV)/bin/python
HOST_STAMP := $(HOST_VENV)/.installed
HOST_PKGS := "bpy==5.0.1" "numpy>=1.26,<2" "OpenImageIO==3.0.21.0" "pyzmq>=26" "msgpack>=1.0" \
             "fileseq>=3.4" "PyYAML>=6"

.PHONY: host-venv test-blender

host-venv: $(HOST_STAMP)

$(HOST_STAMP): mk/host.mk
	test -x $(HOST_PY) || $(PYTHON) -m venv $(HOST_VENV)
	$(HOST_PY) -m pip install -q --upgrade pip
	$(HOST_PY) -m pip install -q $(HOST_PKGS)
	$(HOST_PY) -c "import bpy, OpenImageIO, zmq, msgpack; print('host venv: Blender', bpy.app.version_string)"
	touch $(HOST_STAMP)

# The Blender round trip alone (tests marked `host`; they launch $(HOST_PY) themselves).
test-blender: $(STAMP) host-venv
	$(PY) -m pytest -q -m host
