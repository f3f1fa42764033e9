"""Classes whose instances the fixtures pickle.

Imported as the top-level module `fixture_classes` (scripts/ is on sys.path), so every pickle names
`fixture_classes.<Name>`; keep names stable, since committed fixtures refer to them.
"""
import enum


class Point:
    """A plain class: pickled as NEWOBJ (protocol 2+) or copyreg._reconstructor (0-1) + __dict__ state."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Empty:
    """No attributes: pickled without any BUILD."""


class Slotted:
    """`__slots__` without `__dict__`: state is `(None, {slot: value})`; not picklable at protocols 0-1."""

    __slots__ = ('a', 'b', 'c')

    def __init__(self, a, b):
        self.a = a
        self.b = b  # `c` stays unset, so it is absent from the state


class Pair:
    """`__getstate__`/`__setstate__` with a tuple state."""

    def __init__(self, left, right):
        self.left = left
        self.right = right

    def __getstate__(self):
        return (self.left, self.right)

    def __setstate__(self, state):
        self.left, self.right = state


class Reduced:
    """`__reduce__` returning (callable, args): pickled as `make_reduced(tag, n)`."""

    def __init__(self, tag, n):
        self.tag = tag
        self.n = n

    def __reduce__(self):
        return (make_reduced, (self.tag, self.n))


def make_reduced(tag, n):
    return Reduced(tag, n)


class TaggedList(list):
    """A list subclass with an attribute: items travel as APPENDS, the attribute as BUILD state."""

    def __init__(self, items=(), tag=None):
        super().__init__(items)
        self.tag = tag


class TaggedDict(dict):
    """A dict subclass with an attribute: items travel as SETITEMS, the attribute as BUILD state."""

    def __init__(self, items=(), tag=None):
        super().__init__(items)
        self.tag = tag


class KwOnly:
    """`__getnewargs_ex__` with keyword arguments: NEWOBJ_EX at protocol 4+."""

    def __new__(cls, a, *, b):
        self = object.__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': self.b})


class NewArgsEx:
    """`__getnewargs_ex__` with the inherited `object.__new__` (CPython then names `object.__new__`)."""

    def __init__(self, a, b=None):
        self.a = a
        self.b = b

    def __getnewargs_ex__(self):
        return ((self.a,), {'b': self.b})


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 'blue'


class Node:
    """For object graphs with sharing and cycles."""

    def __init__(self, name):
        self.name = name
        self.children = []
        self.parent = None

    def add(self, child):
        self.children.append(child)
        child.parent = self
        return child


def some_function(x):
    """A harmless module-level function for bare global references."""
    return x


class Recorder:
    """Remembers how an unpickler built it: the positional arguments (INST/OBJ/REDUCE) and the BUILD
    state. Its `__reduce__` hands exactly those back, so a description of a *loaded* Recorder shows what
    an inert reader sees in the stream (class, args, state), not what `__init__` made of them."""

    def __init__(self, *args):
        self._args = args

    def __setstate__(self, state):
        self._state = state

    def __reduce__(self):
        return (type(self), self.__dict__.get('_args', ()), self.__dict__.get('_state'))


class External:
    """Objects a Pickler subclass replaces with persistent ids."""

    def __init__(self, key):
        self.key = key
