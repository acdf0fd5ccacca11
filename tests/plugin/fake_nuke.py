"""A STAND-IN for Nuke's ``nuke`` module: the one fake these tests allow.

Nuke cannot be installed here, so the Nuke layer is tested against this module.
It models only what the plugin touches, and where Nuke is strict it is strict
too; each such behaviour cites where Nuke documents (or its own scripts show)
it. Nodes with knobs, groups as contexts, the Nodes menu, ``executeInMainThread``
(queued until the test plays Nuke's event loop with ``run_main_thread``, and
refused from the main thread, where real Nuke would hang), ``ProgressTask``,
``execute`` (calls ``session.on_execute`` so a test can write the frames a
Write would), ``Undo``, ``message`` and ``tprint``.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import deque

GUI = True
STARTLINE = 0x1000
INVISIBLE = 0x400
# What Nuke says for any use of a node (or its knobs) after nuke.delete or closing
# the script; pipeline code catches this ValueError to spot a detached node
# (e.g. the "_limbo_state" check in public gizmo tools).
DETACHED = "A PythonObject is not attached to a node"
_HASHES = re.compile(r"#+")


class Knob:
    default = ""

    def __init__(self, name, label=None, value=None):
        self._name, self._label = name, label or name
        self._value = self.default if value is None else self._convert(value)
        self.enabled, self.visible, self.tooltip, self.flags = True, True, "", set()
        self.node = None

    def _alive(self):
        if self.node is not None and self.node._deleted:
            raise ValueError(DETACHED)

    def _convert(self, value):
        return value

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self):
        self._alive()
        return self._value

    getValue = value

    def setValue(self, value):
        self._alive()
        self._value = self._convert(value)
        _record_change(self)
        return True

    def setEnabled(self, enabled):
        self.enabled = bool(enabled)

    def setVisible(self, visible):
        self.visible = bool(visible)

    def setTooltip(self, text):
        self.tooltip = text

    def setFlag(self, flag):
        self.flags.add(flag)


def _record_change(knob):
    """Every knob change marks the script modified (nuke.modified) and, unless
    nuke.Undo.disable() is in force, adds an undo step (see ``Undo``)."""
    session.modified = True
    if not session.undo_disabled and knob.node is not None:
        session.undo.append((knob.node.name(), knob.name()))


class String_Knob(Knob):
    def _convert(self, value):
        return str(value)


class File_Knob(String_Knob):
    # nuke.filename (https://learn.foundry.com/nuke/developers/131/pythondevguide/_autosummary/nuke.filename.html)
    # returns sequences as %04d; file knobs hold them the same way here, so a
    # plugin that compares paths must not assume the #### it wrote.
    def _convert(self, value):
        return _HASHES.sub(lambda m: f"%0{len(m.group(0))}d", str(value))


class Text_Knob(String_Knob):
    def __init__(self, name, label=None, text=""):
        super().__init__(name, label, text)


class Tab_Knob(Knob):
    pass


class Int_Knob(Knob):
    default = 0

    def _convert(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"Int_Knob {self._name}: {value!r} is not a number")
        return int(value)


class Boolean_Knob(Knob):
    default = False

    def _convert(self, value):
        return bool(value)


class Enumeration_Knob(Knob):
    # values() is a method in Nuke (nuke.Enumeration_Knob), and setValue refuses a
    # name the menu does not hold.
    def __init__(self, name, label=None, values=()):
        self._values = [str(v) for v in values]
        super().__init__(name, label, self._values[0] if self._values else "")

    def values(self):
        return list(self._values)

    def _convert(self, value):
        values = self.values()
        if isinstance(value, int) and not isinstance(value, bool):
            value = values[value]
        if value not in values:
            raise ValueError(f"Enumeration_Knob {self._name}: {value!r} not in {values}")
        return value


class Colorspace_Knob(Enumeration_Knob):
    """A Read's colorspace: Nuke lists the file type's default first, labelled
    ``default (<name>)``, then every colourspace of the session's config
    (``session.colorspaces``). Nuke's own flipbook helper,
    nukescripts' ``getColorspaceFromNode``, strips that label ("Might be in the
    format of 'default (foo)'") before passing the name on."""

    def __init__(self, name="colorspace"):
        Knob.__init__(self, name)
        self._values = []
        self._value = None  # the default entry, whatever the file type makes it

    def values(self):
        file = self.node["file"].value().lower() if self.node is not None else ""
        default = "Cineon" if file.endswith((".dpx", ".cin")) else "linear" if file.endswith(".exr") else "sRGB"
        return [f"default ({default})"] + list(session.colorspaces)

    def value(self):
        self._alive()
        return self.values()[0] if self._value is None or self._value.startswith("default (") else self._value


class Format:
    """nuke.Format: what nuke.addFormat returns and a format knob holds."""

    def __init__(self, width, height, name):
        self._width, self._height, self._name = width, height, name

    def width(self):
        return self._width

    def height(self):
        return self._height

    def name(self):
        return self._name


class Format_Knob(Knob):
    def _convert(self, value):
        if isinstance(value, Format):
            return value
        if value not in session.formats:
            raise ValueError(f"unknown format {value!r}")
        return session.formats[value]


class PyScript_Knob(Knob):
    def __init__(self, name, label=None, command=""):
        super().__init__(name, label, command)

    def execute(self):
        """Run the button's script as Nuke does (with thisNode() = the knob's node)."""
        self._alive()
        session.this_node = self.node
        try:
            exec(self._value, {"nuke": __import__("nuke")})
        finally:
            session.this_node = None


class Reload_Knob(Knob):
    """A Read's Reload button: pipeline code calls ``read['reload'].execute()`` to
    drop Nuke's cached frames when new files land at the same path."""

    def execute(self):
        self._alive()
        session.reloaded.append(self.node.name())


# knobs every node of a class starts with
_CLASS_KNOBS = {
    "Read": lambda: [File_Knob("file"), File_Knob("proxy"), Int_Knob("first", value=1), Int_Knob("last", value=1),
                     Int_Knob("origfirst", value=1), Int_Knob("origlast", value=1), Boolean_Knob("raw"),
                     Colorspace_Knob(), String_Knob("frame"), Format_Knob("format", value=session.root_format()),
                     Reload_Knob("reload")],
    # a Write's colorspace is the same menu as a Read's (the file type's default first): the
    # colourspace its pixels are written in, out of the working space, unless raw is on
    "Write": lambda: [File_Knob("file"), String_Knob("file_type"), String_Knob("channels", value="rgb"),
                      Boolean_Knob("raw"), String_Knob("datatype", value="16 bit half"), Colorspace_Knob()],
    "Group": lambda: [String_Knob("knobChanged")],
    "Input": lambda: [Int_Knob("number")],
    "Root": lambda: [Boolean_Knob("proxy"), Format_Knob("format", value=Format(2048, 1556, "2K_Super_35(full-ap)"))],
}
_MAX_INPUTS = {"Read": 0, "Input": 0, "Root": 0, "Grade": 2}  # others: 1; a Group: its Input nodes


class Node:
    def __init__(self, cls, parent=None, **values):
        self._class = cls
        self._parent = parent
        self._deleted = False
        self._knobs = {}
        self._inputs = []
        self._children = []
        for knob in [String_Knob("name", value=cls), Int_Knob("xpos"), Int_Knob("ypos"), Int_Knob("tile_color")]:
            self.addKnob(knob)
        for knob in _CLASS_KNOBS.get(cls, lambda: [])():
            self.addKnob(knob)
        for key, value in values.items():
            self[key].setValue(value)
        self.first_frame, self.last_frame = 1, 1

    def __getattribute__(self, attr):
        # Every method of a deleted node raises, as Nuke's do (see DETACHED).
        if not attr.startswith("_") and object.__getattribute__(self, "_deleted"):
            raise ValueError(DETACHED)
        return object.__getattribute__(self, attr)

    def __repr__(self):
        return f"<{self._class} {'(deleted)' if self._deleted else self.fullName()}>"

    # identity
    def Class(self):
        return self._class

    def name(self):
        return self._knobs["name"].value()

    def setName(self, name, uncollide=True):
        """As Nuke: a taken name gets its trailing number raised (Blur1 -> Blur2) when ``uncollide``."""
        taken = {n.name() for n in self._parent._children if n is not self} if self._parent else set()
        if name in taken:
            if not uncollide:
                raise ValueError(f"name {name!r} is taken")
            stem = name.rstrip("0123456789")
            number = int(name[len(stem):] or 0) + 1
            while f"{stem}{number}" in taken:
                number += 1
            name = f"{stem}{number}"
        self._knobs["name"].setValue(name)

    def fullName(self):
        if self._parent is None or self._parent is session.root:
            return self.name()
        return f"{self._parent.fullName()}.{self.name()}"

    # knobs
    def addKnob(self, knob):
        knob.node = self
        self._knobs[knob.name()] = knob

    def knob(self, name):
        return self._knobs.get(name)

    def knobs(self):
        return dict(self._knobs)

    def __getitem__(self, name):
        if object.__getattribute__(self, "_deleted"):
            raise ValueError(DETACHED)
        # Nuke raises NameError for a knob the node lacks; nukescripts.searchreplace
        # tests for a knob with `try: node[name] except NameError`
        # (https://learn.foundry.com/nuke/developers/131/pythondevguide/_modules/nukescripts/searchreplace.html).
        if name not in self._knobs:
            raise NameError(f"knob {name} does not exist")
        return self._knobs[name]

    # graph
    def maxInputs(self):
        if self._class == "Group":
            return sum(1 for n in self._children if n.Class() == "Input")
        return _MAX_INPUTS.get(self._class, 1)

    def input(self, i):
        node = self._inputs[i] if i < len(self._inputs) else None
        return None if node is None or node._deleted else node

    def setInput(self, i, node):
        # Node.setInput returns a bool (nuke.Node: "True if successful"): False for an
        # input the node does not have. A Group's inputs are its Input nodes, numbered
        # by their `number` knobs in creation order, so an empty Group has none.
        if i >= self.maxInputs():
            return False
        while len(self._inputs) <= i:
            self._inputs.append(None)
        self._inputs[i] = node
        return True

    def xpos(self):
        return self["xpos"].value()

    def ypos(self):
        return self["ypos"].value()

    def setXYpos(self, x, y):
        self["xpos"].setValue(x)
        self["ypos"].setValue(y)

    def screenWidth(self):
        return 80

    def screenHeight(self):
        return 18

    def firstFrame(self):
        return self["first"].value() if self._class == "Read" else self.first_frame

    def lastFrame(self):
        return self["last"].value() if self._class == "Read" else self.last_frame

    def format(self):
        if "format" in self._knobs:
            return self["format"].value()
        upstream = self.input(0)
        return upstream.format() if upstream is not None else session.root_format()

    # groups
    def nodes(self):
        return [n for n in self._children]

    def begin(self):
        session.context.append(self)

    def end(self):
        if session.context[-1] is not self:
            raise RuntimeError(f"end() on {self!r} but the current context is {session.context[-1]!r}")
        session.context.pop()

    def __enter__(self):
        self.begin()
        return self

    def __exit__(self, *exc):
        self.end()


class Menu:
    def __init__(self, name):
        self.name = name
        self.items = {}  # name -> Menu or (command, kwargs)

    def addMenu(self, name, **kwargs):
        return self.items.setdefault(name, Menu(name))

    def addCommand(self, name, command=None, shortcut="", **kwargs):
        self.items[name] = (command, dict(kwargs, shortcut=shortcut))

    def findItem(self, name):
        return self.items.get(name)


class TaskRecord:
    """What a test sees of a ProgressTask: progress, messages, the cancel flag the
    artist sets, and whether the task was released (its object destroyed)."""

    def __init__(self, name):
        self.name = name
        self.progress, self.messages = [], []
        self.cancelled = False
        self.released = False


class ProgressTask:
    # Nuke documents setProgress, setMessage and isCancelled
    # (https://learn.foundry.com/nuke/developers/131/pythondevguide/_autosummary/nuke.ProgressTask.html);
    # the task closes when the object is destroyed. Foundry's threading page
    # (https://learn.foundry.com/nuke/developers/90/pythondevguide/threading.html)
    # makes, updates and polls its ProgressTask on the one worker thread; no example
    # shares one between threads, so the stand-in takes that as the rule: any use
    # from another thread raises.
    def __init__(self, name):
        self._owner = threading.current_thread()
        self._record = TaskRecord(name)
        session.tasks.append(self._record)
        weakref.finalize(self, setattr, self._record, "released", True)

    def _same_thread(self):
        if threading.current_thread() is not self._owner:
            raise RuntimeError(f"ProgressTask {self._record.name!r} used from {threading.current_thread().name}, "
                               f"made on {self._owner.name}")

    def setProgress(self, value):
        self._same_thread()
        if not isinstance(value, int) or not 0 <= value <= 100:
            raise ValueError(f"ProgressTask.setProgress wants an int 0-100, got {value!r}")
        self._record.progress.append(value)

    def setMessage(self, text):
        self._same_thread()
        self._record.messages.append(text)

    def isCancelled(self):
        self._same_thread()
        return self._record.cancelled


class Undo:
    # nuke.Undo.disable() stops recording undos until the matching enable()
    # (https://learn.foundry.com/nuke/developers/151/pythondevguide/_autosummary/nuke.Undo.html).
    @staticmethod
    def disable():
        session.undo_disabled += 1

    @staticmethod
    def enable():
        session.undo_disabled = max(0, session.undo_disabled - 1)

    @staticmethod
    def disabled():
        return session.undo_disabled > 0


class _Nodes:
    def __getattr__(self, cls):
        def make(**values):
            parent = session.context[-1]
            node = Node(cls, parent=parent)
            node.setName(values.pop("name", f"{cls}1"))
            if cls == "Input":  # numbered in creation order: the Group's input index
                node["number"].setValue(sum(1 for n in parent._children if n.Class() == "Input"))
            for key, value in values.items():
                node[key].setValue(value)  # NameError for a knob the class lacks, as node[key]
            parent._children.append(node)
            return node

        return make


class _Session:
    def __init__(self):
        self.formats = {}
        self.root = Node("Root")
        self.root._knobs["name"]._value = "Root"  # before `session` names this session
        self.context = [self.root]
        self.menus = {}
        self.main_queue = deque()
        self.main_calls = 0
        self.tasks = []  # TaskRecord of every ProgressTask made
        self.executed = []  # (node, first, last, incr)
        self.on_execute = None
        self.cancel_execute = False
        self.messages = []
        self.printed = []
        self.plugin_paths = []
        self.this_node = None
        self.script_name = "Root"
        self.selected = None
        self.colorspaces = ["linear", "sRGB", "rec709", "Cineon", "Gamma2.2", "AlexaV3LogC"]
        self.undo = []  # (node name, knob name) of each recorded undo step
        self.undo_disabled = 0
        self.modified = False
        self.reloaded = []  # names of Reads whose Reload button ran

    def root_format(self):
        root = getattr(self, "root", None)
        return root["format"].value() if root is not None else Format(2048, 1556, "2K_Super_35(full-ap)")


session = _Session()
nodes = _Nodes()


def reset():
    global session
    session = _Session()
    return session


def root():
    return session.root


def menu(name):
    return session.menus.setdefault(name, Menu(name))


def addFormat(text):
    """``"2048 1152 1 plate_2k"`` (width height pixel-aspect name), as Nuke's addFormat."""
    width, height, _, name = text.split()
    session.formats[name] = Format(int(width), int(height), name)
    return session.formats[name]


def createNode(cls, args="", inpanel=True):
    node = getattr(nodes, cls)()
    if session.selected is not None:
        node.setInput(0, session.selected)  # False (no wire) for an empty Group
    session.selected = node
    return node


def selectedNodes(filter=None):
    return [session.selected] if session.selected is not None and not session.selected._deleted else []


def toNode(name):
    if name.startswith("root."):
        scope, parts = session.root, name.split(".")[1:]
    else:
        scope, parts = session.context[-1], name.split(".")
    for part in parts:
        scope = next((n for n in scope._children if n.name() == part), None)
        if scope is None:
            return None
    return scope


def allNodes(filter=None, group=None):
    scope = group or session.context[-1]
    return [n for n in scope._children if filter is None or n.Class() == filter]


def _detach(node):
    for child in node._children:
        _detach(child)
    node._deleted = True


def delete(node):
    node._parent._children.remove(node)
    _detach(node)


def scriptClose():
    """Close the script: every node is gone (and detached), as after File > Close."""
    for node in list(session.root._children):
        delete(node)
    session.root["name"].setValue("Root")


def modified(value=None):
    if value is None:
        return session.modified
    session.modified = bool(value)
    return None


def filename(node):
    # "based on the root.proxy settings and which of the fullsize/proxy filenames
    # are filled in" (nuke.filename, link at File_Knob): proxy mode gives the proxy.
    if session.root["proxy"].value() and node.knob("proxy") is not None and node["proxy"].value():
        return node["proxy"].value()
    return node["file"].value()


def execute(node, first, last, incr=1, views=None):
    session.executed.append((node, first, last, incr))
    # An artist who cancels the render's progress bar makes nuke.execute raise
    # RuntimeError("Cancelled"), the message pipeline code checks for.
    if session.cancel_execute:
        raise RuntimeError("Cancelled")
    if session.on_execute is not None:
        session.on_execute(node, first, last)


def executeInMainThread(call, args=(), kwargs=None):
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("executeInMainThread called from the main thread: real Nuke would hang")
    if not isinstance(args, tuple):
        args = (args,)
    session.main_queue.append((call, args, kwargs or {}))


def run_main_thread():
    """Play Nuke's event loop once: run every call queued by worker threads."""
    ran = 0
    while session.main_queue:
        call, args, kwargs = session.main_queue.popleft()
        call(*args, **kwargs)
        ran += 1
    session.main_calls += ran
    return ran


def message(text):
    session.messages.append(text)


def tprint(*args):
    session.printed.append(" ".join(str(a) for a in args))


def pluginAddPath(path, addToSysPath=True):
    session.plugin_paths.append(path)


def thisNode():
    return session.this_node


def thisKnob():
    return None
