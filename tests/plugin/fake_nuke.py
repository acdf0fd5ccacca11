"""A stand-in for Nuke's ``nuke`` module, recording what the plugin asks of it.

Nuke cannot be installed here, so the Nuke layer is tested against this fake:
nodes with knobs, groups as contexts, the Nodes menu, ``executeInMainThread``
(queued until the test plays Nuke's event loop with ``run_main_thread``, and
refused from the main thread, where real Nuke would hang), ``ProgressTask``,
``execute`` (calls ``session.on_execute`` so a test can write the frames a
Write would), ``message`` and ``tprint``. Only what the plugin uses exists.
"""

from __future__ import annotations

import threading
from collections import deque

GUI = True
STARTLINE = 0x1000
INVISIBLE = 0x400


class Knob:
    default = ""

    def __init__(self, name, label=None, value=None):
        self._name, self._label = name, label or name
        self._value = self.default if value is None else value
        self.enabled, self.visible, self.tooltip, self.flags = True, True, "", set()

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self):
        return self._value

    getValue = value

    def setValue(self, value):
        self._value = value
        return True

    def setEnabled(self, enabled):
        self.enabled = bool(enabled)

    def setVisible(self, visible):
        self.visible = bool(visible)

    def setTooltip(self, text):
        self.tooltip = text

    def setFlag(self, flag):
        self.flags.add(flag)


class String_Knob(Knob):
    def setValue(self, value):
        self._value = str(value)
        return True


class File_Knob(String_Knob):
    pass


class Text_Knob(String_Knob):
    def __init__(self, name, label=None, text=""):
        super().__init__(name, label, text)


class Tab_Knob(Knob):
    pass


class Int_Knob(Knob):
    default = 0

    def setValue(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"Int_Knob {self._name}: {value!r} is not a number")
        self._value = int(value)
        return True


class Boolean_Knob(Knob):
    default = False

    def setValue(self, value):
        self._value = bool(value)
        return True


class Enumeration_Knob(Knob):
    def __init__(self, name, label=None, values=()):
        self.values = [str(v) for v in values]
        super().__init__(name, label, self.values[0] if self.values else "")

    def setValue(self, value):
        if isinstance(value, int):
            value = self.values[value]
        if value not in self.values:
            raise ValueError(f"Enumeration_Knob {self._name}: {value!r} not in {self.values}")
        self._value = value
        return True


class PyScript_Knob(Knob):
    def __init__(self, name, label=None, command=""):
        super().__init__(name, label, command)

    def execute(self):
        """Run the button's script as Nuke does (with thisNode() = the knob's node)."""
        session.this_node = self.node
        try:
            exec(self._value, {"nuke": __import__("nuke")})
        finally:
            session.this_node = None


# knobs every node of a class starts with
_CLASS_KNOBS = {
    "Read": lambda: [String_Knob("file"), Int_Knob("first", value=1), Int_Knob("last", value=1),
                     Int_Knob("origfirst", value=1), Int_Knob("origlast", value=1), Boolean_Knob("raw"),
                     String_Knob("colorspace", value="default"), String_Knob("frame")],
    "Write": lambda: [String_Knob("file"), String_Knob("file_type"), String_Knob("channels", value="rgb"),
                      Boolean_Knob("raw"), String_Knob("datatype", value="16 bit half")],
    "Group": lambda: [String_Knob("knobChanged")],
}


class Node:
    def __init__(self, cls, parent=None, **values):
        self._class = cls
        self._parent = parent
        self._knobs = {}
        self._inputs = []
        self._children = []
        for knob in [String_Knob("name", value=cls), Int_Knob("xpos"), Int_Knob("ypos"), Int_Knob("tile_color")]:
            self.addKnob(knob)
        for knob in _CLASS_KNOBS.get(cls, lambda: [])():
            self.addKnob(knob)
        for key, value in values.items():
            if key not in self._knobs:
                self.addKnob(String_Knob(key))
            self._knobs[key].setValue(value)
        self.first_frame, self.last_frame = 1, 1

    def __repr__(self):
        return f"<{self._class} {self.fullName()}>"

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
        return self._knobs[name]

    # graph
    def input(self, i):
        return self._inputs[i] if i < len(self._inputs) else None

    def setInput(self, i, node):
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

    # groups
    def nodes(self):
        return list(self._children)

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


class ProgressTask:
    def __init__(self, name):
        self.name = name
        self.progress, self.messages = [], []
        self.cancelled = False
        session.tasks.append(self)

    def setProgress(self, value):
        if not isinstance(value, int) or not 0 <= value <= 100:
            raise ValueError(f"ProgressTask.setProgress wants an int 0-100, got {value!r}")
        self.progress.append(value)

    def setMessage(self, text):
        self.messages.append(text)

    def isCancelled(self):
        return self.cancelled


class _Nodes:
    def __getattr__(self, cls):
        def make(**values):
            parent = session.context[-1]
            node = Node(cls, parent=parent)
            node.setName(values.pop("name", f"{cls}1"))
            for key, value in values.items():
                if node.knob(key) is None:
                    node.addKnob(String_Knob(key))
                node[key].setValue(value)
            parent._children.append(node)
            return node

        return make


class _Session:
    def __init__(self):
        self.root = Node("Root")
        self.root["name"].setValue("Root")
        self.context = [self.root]
        self.menus = {}
        self.main_queue = deque()
        self.main_calls = 0
        self.tasks = []
        self.executed = []  # (node, first, last, incr)
        self.on_execute = None
        self.messages = []
        self.printed = []
        self.plugin_paths = []
        self.this_node = None
        self.script_name = "Root"
        self.selected = None


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


def createNode(cls, args="", inpanel=True):
    node = getattr(nodes, cls)()
    if session.selected is not None:
        node.setInput(0, session.selected)
    return node


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


def delete(node):
    node._parent._children.remove(node)


def filename(node):
    return node["file"].value()


def execute(node, first, last, incr=1, views=None):
    session.executed.append((node, first, last, incr))
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
