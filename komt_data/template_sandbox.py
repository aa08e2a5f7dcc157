"""The sandbox templates render in: Jinja's, plus what a training-data build needs of it.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python's
internals, but not from spending the machine or from printing what is not text:
``{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}`` runs
forever, ``'%0300000000d' % 1`` takes 1.8 GB, ``{{ text.strip }}`` prints
``<built-in method strip of str object at 0x7f…>`` and ``lipsum()`` prints random words.
Here:

* **Only text and numbers print.** Whatever reaches the output (``{{ }}``, ``~``, ``%``,
  ``format``, ``join``, text filters) must be text or a number: a method, an object, a
  list or ``none`` fails the render instead of printing a repr (some with a
  memory address, different on every run). ``lipsum`` and ``|random`` are refused when a
  template is loaded: their output does not depend on the seed.
* **Every render has a budget.** :data:`MAX_RENDER_STEPS` loop iterations and calls over
  all loops (nested ones count each inner turn); no text, list or number bigger than
  :data:`MAX_RENDER_CHARS` is made, and sizes are checked *before* the memory is taken
  (``ljust``, ``center``, ``zfill``, ``%``, ``format``, ``*``, ``+``, ``replace``, ``join``);
  all text, lists and comparisons made along the way may not add up to more than
  :data:`MAX_RENDER_WORK`. A list counts with its shared parts expanded, so a list built
  of itself (``[a, a]`` twenty times) cannot make printing or comparing it exponential.

Anything over a bound is a :class:`~jinja2.sandbox.SecurityError`, which the caller turns
into a TemplateError naming the template.
"""

from __future__ import annotations

import functools
import operator
import re
import string
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from numbers import Number
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes as nodes
import jinja2.sandbox
from jinja2.sandbox import SecurityError
from markupsafe import Markup

#: The most characters one template half may render, and the biggest text (or list, counted
#: with what it holds) any step of a render may make.
MAX_RENDER_CHARS = 1_000_000
#: Loop iterations and calls (macros, methods, globals) in one render, all loops together.
MAX_RENDER_STEPS = 100_000
#: Characters of text, list items and compared values one render may make or walk in all.
MAX_RENDER_WORK = 10_000_000
MAX_EXPONENT = 1_000
#: The biggest whole number a template may make (``9**999`` has about 3,200 bits).
MAX_INT_BITS = 64 * MAX_EXPONENT

_state = threading.local()


class _Budget:
    __slots__ = ("steps", "work")

    def __init__(self) -> None:
        self.steps = MAX_RENDER_STEPS
        self.work = MAX_RENDER_WORK


def reset_budget() -> None:
    """Start a new render's budget (called for every new Jinja context)."""
    _state.budget = _Budget()


def _budget() -> _Budget:
    budget = getattr(_state, "budget", None)
    if budget is None:
        budget = _state.budget = _Budget()
    return budget


def _step() -> None:
    budget = _budget()
    budget.steps -= 1
    if budget.steps < 0:
        raise SecurityError(f"takes more than {MAX_RENDER_STEPS:,} steps (loop iterations and calls, "
                            "all loops together)")


def _charge(amount: int) -> None:
    budget = _budget()
    budget.work -= amount
    if budget.work < 0:
        raise SecurityError(f"makes or compares more than {MAX_RENDER_WORK:,} characters of text and "
                            "list items in all")


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} would be longer than {MAX_RENDER_CHARS:,} characters")


def weight(value: Any, limit: int = MAX_RENDER_CHARS) -> int:
    """The size of ``value`` as printing or comparing it walks it: text by characters, lists,
    tuples and mappings by their items, shared items counted every time they appear.
    Raises past ``limit``; the walk itself costs only the distinct lists it meets."""
    memo: dict[int, int] = {}

    def walk(item: Any, depth: int) -> int:
        if isinstance(item, str):
            return len(item) + 1
        if not isinstance(item, (list, tuple, dict)):
            return 1
        known = memo.get(id(item))
        if known is not None:
            return known
        if depth > 100:
            raise SecurityError("nests lists more than 100 deep")
        total = 1
        for child in (item.items() if isinstance(item, dict) else item):
            total += walk(child, depth + 1)
            if total > limit:
                raise SecurityError(f"makes a list of more than {limit:,} items and characters "
                                    "(counting shared ones every time)")
        memo[id(item)] = total
        return total

    return walk(value, 0)


def _cost(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple, dict)):
        return weight(value)
    return 0


class _Method:
    """A method reached as an attribute (``text.strip``). Calling it calls the method; turning
    it into text fails, where Python would print ``<built-in method … at 0x7f…>``."""

    __slots__ = ("function", "name")

    def __init__(self, function: Callable[..., Any], name: str):
        self.function = function
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def _refuse(self, *args: Any) -> str:
        raise SecurityError(f"'{self.name}' is a method, not text: write {self.name}() to call it")

    __str__ = __repr__ = __format__ = _refuse


def printable(value: Any) -> Any:
    """``value`` if a template may print it (text or a number), else a SecurityError that
    says what it is. Never a repr: an object's repr can hold a memory address."""
    if isinstance(value, str):
        return value
    if isinstance(value, Number):  # True is the number 1 in Python, and prints as True
        return value
    if isinstance(value, _Method):
        value._refuse()
    if value is None:
        problem = "none (an empty value)"
    elif isinstance(value, (list, tuple)):
        problem = "a list (join it: x|join(', '))"
    elif isinstance(value, dict):
        problem = "a mapping"
    elif isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises its own "'x' is undefined"
        problem = "an undefined value"
    else:
        problem = f"a {type(value).__name__} object"
    raise SecurityError(f"prints {problem}; a template may print only text and numbers")


def text_of(value: Any) -> str:
    """What ``{{ value }}`` renders: ``str`` of a printable value (the fast path's twin of Jinja)."""
    return value if type(value) is str else str(printable(value))


# -- sizes checked before the memory is taken -----------------------------------------------

_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.?)", re.S)


def _check_percent(fmt: str, args: Any) -> None:
    """``fmt % args``: widths and precisions, and the text put in, within MAX_RENDER_CHARS."""
    total = len(fmt)
    for width, precision, kind in _PERCENT.findall(fmt):
        if kind == "%":
            continue
        if "*" in (width, precision):
            raise SecurityError("'*' widths in % formatting are not allowed; write the width")
        total += int(width or 0) + int(precision or 0)
    values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    for value in values:
        printable(value)
        total += len(value) if isinstance(value, str) else 24
    if total > MAX_RENDER_CHARS:
        raise _too_big("the % formatting")
    _charge(total)


def _check_width(width: Any, length: int = 0) -> None:
    if isinstance(width, int) and width > MAX_RENDER_CHARS:
        raise _too_big(f"padding to width {width:,}")
    _charge(max(0, width if isinstance(width, int) else 0) + length)


def _check_replace(text: str, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return  # Python raises its own TypeError
    if len(new) > len(old):
        times = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * (len(new) - len(old)) > MAX_RENDER_CHARS:
            raise _too_big("the replaced text")
    _charge(len(text))


def _joined(separator: str, items: Iterable[Any]) -> str:
    pieces = [text_of(item) for item in items]
    total = sum(map(len, pieces)) + len(separator) * max(0, len(pieces) - 1)
    if total > MAX_RENDER_CHARS:
        raise _too_big("the joined text")
    _charge(total)
    return separator.join(pieces)


class _Bounded(string.Formatter):
    """``str.format``: what is formatted must be printable; widths within MAX_RENDER_CHARS."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return super().convert_field(printable(value), conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        printable(value)
        widths = [int(n) for n in re.findall(r"\d+", format_spec)]
        if widths and max(widths) > MAX_RENDER_CHARS:
            raise _too_big("the formatted field")
        _charge(sum(widths) + (len(value) if isinstance(value, str) else 24))
        return super().format_field(value, format_spec)


class _Formatter(_Bounded, jinja2.sandbox.SandboxedFormatter):
    pass


class _EscapeFormatter(_Bounded, jinja2.sandbox.SandboxedEscapeFormatter):
    pass


# -- what a template may call -----------------------------------------------------------------

_STR_METHODS = frozenset("""capitalize casefold center count endswith expandtabs find format format_map index
    isalnum isalpha isascii isdecimal isdigit isidentifier islower isnumeric isprintable isspace istitle isupper
    join ljust lower lstrip partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit
    rstrip split splitlines startswith strip swapcase title upper zfill""".split())
# Methods of the other data types a template meets; none that change them (the sandbox is
# immutable) and none of the number methods (``(5).to_bytes(10**9)`` takes a gigabyte).
_DATA_METHODS: dict[type, frozenset[str]] = {
    list: frozenset({"count", "index", "copy"}),
    tuple: frozenset({"count", "index"}),
    dict: frozenset({"get", "items", "keys", "values", "copy"}),
    int: frozenset(), float: frozenset(), bool: frozenset(),
}


def _check_str_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Check a str method's arguments before it runs; returns the arguments to call it with."""
    text, name = method.__self__, method.__name__
    if name in ("ljust", "rjust", "center", "zfill") and args:
        _check_width(args[0], len(text))
    elif name == "expandtabs":
        size = kwargs.get("tabsize", args[0] if args else 8)
        if isinstance(size, int) and text.count("\t") * max(size, 0) + len(text) > MAX_RENDER_CHARS:
            raise _too_big("the text with its tabs expanded")
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, *args[:3])
    elif name == "join" and len(args) == 1:
        items = list(args[0])
        if all(isinstance(item, str) for item in items):  # else Python's own TypeError
            total = sum(map(len, items)) + len(text) * max(0, len(items) - 1)
            if total > MAX_RENDER_CHARS:
                raise _too_big("the joined text")
            _charge(total)
        return (items,)
    return args


# -- filters and tests --------------------------------------------------------------------------

#: Left out: ``random`` (not seeded), ``pprint``, ``tojson`` and ``xmlattr`` (print
#: Python or JSON renderings of objects), ``urlize`` (HTML, and slow on long text).
_REMOVED_FILTERS = ("random", "pprint", "tojson", "xmlattr", "urlize")
#: Filters whose input is text: a list, none or an object is refused, not printed as a repr.
_TEXT_FILTERS = frozenset({"capitalize", "center", "e", "escape", "forceescape", "format", "indent", "lower",
                           "replace", "string", "striptags", "title", "trim", "truncate", "upper", "urlencode",
                           "wordcount", "wordwrap"})
#: Filters that compare or walk every item of their input.
_WALKING_FILTERS = frozenset({"dictsort", "groupby", "max", "min", "sort", "unique"})


def _pre_center(value: Any, width: Any = 80) -> None:
    _check_width(width, len(str(value)))


def _pre_indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> None:
    text = str(s)
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if len(text) + (text.count("\n") + 1) * step > MAX_RENDER_CHARS:
        raise _too_big("the indented text")
    _charge(len(text))


def _pre_wordwrap(environment: Any, s: Any, width: Any = 79, break_long_words: bool = True,
                  wrapstring: Any = None, break_on_hyphens: bool = True) -> None:
    text = str(s)
    lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else 1
    if len(text) + lines * len(str(wrapstring or "\n")) > MAX_RENDER_CHARS:
        raise _too_big("the wrapped text")
    _charge(len(text))


def _pre_replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> None:
    printable(old)
    printable(new)
    _check_replace(str(s), str(old), str(new), -1 if count is None else count)


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_percent(str(value), kwargs or args)


def _pre_round(value: Any, precision: Any = 0, method: str = "common") -> None:
    if isinstance(precision, int) and abs(precision) > MAX_EXPONENT:
        raise SecurityError(f"rounding to {precision} digits is too many")


def _pre_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> None:
    if isinstance(start, bool) or not isinstance(start, Number):
        raise SecurityError("sum adds numbers only (start must be a number)")


def _pre_batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
    if isinstance(linecount, int) and linecount > MAX_RENDER_STEPS:
        raise SecurityError(f"batches of more than {MAX_RENDER_STEPS:,} items are not allowed")


def _pre_slice(value: Any, slices: Any, fill_with: Any = None) -> None:
    if isinstance(slices, int) and slices > MAX_RENDER_STEPS:
        raise SecurityError(f"more than {MAX_RENDER_STEPS:,} slices are not allowed")


_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center, "indent": _pre_indent, "wordwrap": _pre_wordwrap, "replace": _pre_replace,
    "format": _pre_format, "round": _pre_round, "sum": _pre_sum, "batch": _pre_batch, "slice": _pre_slice,
}


def _join_filter(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
    # Jinja's join (without autoescape), its items printable and its size known first.
    if attribute is not None:
        value = map(jinja2.filters.make_attrgetter(eval_ctx.environment, attribute), value)
    return _joined(text_of(d), value)


_join_filter.jinja_pass_arg = jinja2.utils._PassArg.eval_context  # type: ignore[attr-defined]


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its input checked (text filters), its size checked first (see
    _PRECHECKS) and what it makes counted against the render's budget."""
    passes = getattr(function, "jinja_pass_arg", None) is not None
    precheck = _PRECHECKS.get(name)
    text_input, walks = name in _TEXT_FILTERS, name in _WALKING_FILTERS

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        value = args[1 if passes else 0] if len(args) > passes else None
        if text_input:
            printable(value)
        if walks:
            _charge(_cost(value))
        if precheck is not None:
            precheck(*args, **kwargs)
        result = function(*args, **kwargs)
        _charge(_cost(result))
        return result

    return guarded


def _guard_test(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _charge(sum(_cost(arg) for arg in args))
        return function(*args, **kwargs)

    return guarded


_COMPARING_TESTS = ("eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan",
                    ">", "ge", ">=", "in")


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """A for loop's iterable, each turn counted against the render's steps."""
    budget = _budget()
    for item in iterable:
        budget.steps -= 1
        if budget.steps < 0:
            raise SecurityError(f"takes more than {MAX_RENDER_STEPS:,} steps (loop iterations and calls, "
                                "all loops together)")
        yield item


_STEP_FILTER = "komt_counted_loop"

_COMPARE = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gteq": operator.ge, "lt": operator.lt,
            "lteq": operator.le, "in": lambda a, b: a in b, "notin": lambda a, b: a not in b}


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code, with every for loop counted and ``~``, comparisons and list, tuple and
    mapping literals checked (the sandbox's hooks see none of them)."""

    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _STEP_FILTER, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.komt_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_Compare(self, node: nodes.Compare, frame: Any) -> None:
        self.write("environment.komt_compare(")
        self.visit(node.expr, frame)
        for op in node.ops:
            self.write(f", {op.op!r}, ")
            self.visit(op.expr, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Any) -> None:
        self.write("environment.komt_container(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Any) -> None:
        self.write("environment.komt_container(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Any) -> None:
        if node.ctx != "load":  # an assignment target: `for a, b in pairs`
            super().visit_Tuple(node, frame)
            return
        self.write("environment.komt_container(")
        super().visit_Tuple(node, frame)
        self.write(")")


class BudgetedTemplate(jinja2.Template):
    """A Jinja template whose every render (a new context) starts a new budget."""

    def new_context(self, vars: Any = None, shared: bool = False, locals: Any = None) -> Any:  # noqa: A002
        reset_budget()
        return super().new_context(vars, shared, locals)


class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no ``list.append`` to grow a list without bound), with the
    checks described in this module."""

    code_generator_class = _CodeGenerator
    template_class = BudgetedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any):
        super().__init__(finalize=printable, **options)
        del self.globals["lipsum"]
        self.filters = {name: _join_filter if name == "join" else _guard_filter(name, f)
                        for name, f in self.filters.items() if name not in _REMOVED_FILTERS}
        self.filters[_STEP_FILTER] = _counted
        for name in _COMPARING_TESTS:
            if name in self.tests:
                self.tests[name] = _guard_test(self.tests[name])

    # Attributes: methods come back as _Method (printing one fails); only methods that cannot
    # change data or take memory without bound are reachable.
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, str):
            return attr in _STR_METHODS
        allowed = _DATA_METHODS.get(type(obj))
        return allowed is None or not callable(value) or attr in allowed

    def getattr(self, obj: Any, attribute: str) -> Any:
        return _as_method(super().getattr(obj, attribute), attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _as_method(super().getitem(obj, argument), str(argument))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja's, with formatters that refuse non-text fields and oversized widths.
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or \
                value.__name__ not in ("format", "format_map") or not isinstance(value.__self__, str):
            return None
        f_self = value.__self__
        is_format_map = value.__name__ == "format_map"
        formatter: string.Formatter = (_EscapeFormatter(self, escape=f_self.escape) if isinstance(f_self, Markup)
                                       else _Formatter(self))

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                kwargs, args = args[0], ()
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return functools.update_wrapper(wrapper, value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _step()
        if isinstance(__obj, _Method):
            __obj = __obj.function
        _charge(sum(_cost(arg) for arg in args) + sum(_cost(arg) for arg in kwargs.values()))
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(getattr(__obj, "__self__", None), str):
            args = _check_str_call(__obj, args, kwargs)
        result = jinja2.sandbox.SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        _charge(_cost(result))
        return result

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and (
                abs(right) > MAX_EXPONENT
                or isinstance(left, int) and left.bit_length() * abs(right) > MAX_INT_BITS):
            raise SecurityError(f"power {right} is too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and times > 0 \
                        and (len(seq) * times > MAX_RENDER_CHARS
                             or not isinstance(seq, str) and weight(seq) * times > MAX_RENDER_CHARS):
                    raise SecurityError("repetition too large")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("the product is too large a number")
        elif operator == "+":
            if isinstance(left, str) and isinstance(right, str):
                if len(left) + len(right) > MAX_RENDER_CHARS:
                    raise _too_big("the added text")
            elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
                if weight(left) + weight(right) > MAX_RENDER_CHARS:
                    raise SecurityError(f"the added lists would hold more than {MAX_RENDER_CHARS:,} items")
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        result = super().call_binop(context, operator, left, right)
        _charge(_cost(result))
        return result

    @staticmethod
    def komt_concat(values: tuple[Any, ...]) -> str:
        """``a ~ b``: printable values only, the result within MAX_RENDER_CHARS."""
        return _joined("", values)

    @staticmethod
    def komt_compare(first: Any, *rest: Any) -> Any:
        """``a == b`` (and chains ``a < b < c``), the values' sizes counted against the budget."""
        _charge(_cost(first) + sum(_cost(value) for value in rest[1::2]))
        left, result = first, True
        for op, right in zip(rest[::2], rest[1::2], strict=True):
            result = _COMPARE[op](left, right)
            if not result:
                return result
            left = right
        return result

    @staticmethod
    def komt_container(value: Any) -> Any:
        """A list, tuple or mapping literal: within MAX_RENDER_CHARS once shared items are expanded."""
        _charge(weight(value))
        return value


def _as_method(value: Any, name: str) -> Any:
    if callable(value) and not isinstance(value, (jinja2.Undefined, _Method)):
        return _Method(value, name)
    return value


# -- refused when a template is loaded ----------------------------------------------------------

def load_problem(tree: nodes.Template) -> str | None:
    """What makes a parsed template unfit before it renders anything, or None."""
    for node in tree.find_all((nodes.Name, nodes.Filter, nodes.Test, nodes.For)):
        if isinstance(node, nodes.Name) and node.name == "lipsum":
            return ("uses lipsum(), which writes random text: a template must render the same text for the "
                    "same example and seed")
        if isinstance(node, (nodes.Filter, nodes.Test)) and node.name == "random":
            return ("uses the random filter, which ignores the build's seed: a template must render the same "
                    "text for the same example and seed (komt-data already spreads the templates by seed)")
        if isinstance(node, nodes.Filter) and node.name == _STEP_FILTER:
            return f"uses '{_STEP_FILTER}', which is komt-data's own"
        if isinstance(node, nodes.For) and node.recursive:
            return "uses a recursive loop, which komt-data does not allow (its work has no bound)"
    return None


__all__ = ["MAX_RENDER_CHARS", "MAX_RENDER_STEPS", "MAX_RENDER_WORK", "Sandbox", "load_problem", "printable",
           "text_of", "weight"]
