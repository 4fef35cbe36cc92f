"""tf.app.flags / tf.flags: absl-style command-line flags (TF 1.15 semantics).

DEFINE_string/integer/float/boolean/enum/list register flags on a FlagValues
(the global FLAGS by default). FLAGS(argv) parses explicitly and returns the
program name plus the arguments it did not consume; reading an attribute of
FLAGS before any parse parses sys.argv first, leaving unknown flags alone.
Parsing follows absl: `--name=value`, `--name value`, `-name`, boolean
`--name` / `--noname` / `--name=false`, GNU-style positional arguments
interleaved with flags, and `--` ending the flags.
"""
from __future__ import annotations

import csv
import sys


class Error(Exception):
    """The base of the flag errors (absl.flags.Error)."""


class DuplicateFlagError(Error):
    """A flag of this name is already defined."""


class IllegalFlagValueError(Error):
    """A flag's value could not be parsed or is out of range."""


class UnrecognizedFlagError(Error):
    """The command line names a flag that isn't defined."""

    def __init__(self, flagname, flagvalue=""):
        self.flagname = flagname
        self.flagvalue = flagvalue
        super().__init__(f"Unknown command line flag '{flagname}'")


class UnparsedFlagAccessError(Error):
    """A flag read before the command line was parsed (explicit FlagValues only)."""


class ValidationError(Error):
    """A required flag is missing."""


def _parse_bool(text):
    if isinstance(text, bool):
        return text
    if isinstance(text, int) and text in (0, 1):
        return bool(text)
    low = str(text).lower()
    if low in ("true", "t", "1"):
        return True
    if low in ("false", "f", "0"):
        return False
    raise ValueError("Non-boolean argument to boolean flag", text)


def _parse_list(text):
    if isinstance(text, (list, tuple)):
        return list(text)
    if not text:
        return []
    # absl reads the value as one CSV row and strips each field.
    return [s.strip() for s in next(csv.reader([text], strict=True))]


class Flag:
    """One flag: name, default, help and its current value."""

    def __init__(self, name, default, help_string, parser, kind, boolean=False,
                 module_name=None):
        self.name = name
        self.help = help_string
        self.boolean = boolean
        self.flag_type = kind
        self.module_name = module_name
        self._parser = parser
        self.default = None if default is None else self._convert(default, default)
        self.value = self.default
        self.using_default_value = True
        self.present = 0

    def _convert(self, text, shown):
        try:
            return self._parser(text)
        except (TypeError, ValueError) as e:
            raise IllegalFlagValueError(f"flag --{self.name}={shown}: {e}") from None

    def parse(self, text):
        self.value = self._convert(text, text)
        self.using_default_value = False
        self.present += 1

    def __repr__(self):
        return f"<{self.flag_type} Flag '{self.name}' = {self.value!r}>"


class FlagValues:
    """A registry of flags and their values (absl.flags.FlagValues).

    `lazy` makes attribute reads parse sys.argv (known flags only) before the
    first explicit parse, as TF 1.15's wrapper around absl's FLAGS does."""

    def __init__(self, lazy=False):
        d = self.__dict__
        d["_flags"] = {}
        d["_parsed"] = False
        d["_lazy"] = lazy
        d["_required"] = []

    # -- registry -------------------------------------------------------------
    def __setitem__(self, name, flag):
        if name in self._flags:
            first = self._flags[name].module_name
            raise DuplicateFlagError(
                f"The flag '{name}' is defined twice. First from {first}, Second from "
                f"{flag.module_name}.  Description from first occurrence: "
                f"{self._flags[name].help}")
        self._flags[name] = flag

    def __getitem__(self, name):
        return self._flags[name]

    def __contains__(self, name):
        return name in self._flags

    def __iter__(self):
        return iter(self._flags)

    def __len__(self):
        return len(self._flags)

    def __delattr__(self, name):
        if name not in self._flags:
            raise AttributeError(name)
        del self._flags[name]

    # -- values -----------------------------------------------------------------
    def __getattr__(self, name):
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            if not self.__dict__["_lazy"]:
                raise UnparsedFlagAccessError(
                    f"Trying to access flag --{name} before flags were parsed.")
            self(sys.argv, known_only=True)
        return flags[name].value

    def __setattr__(self, name, value):
        if name not in self._flags:
            raise UnrecognizedFlagError(name, value)
        self._flags[name].value = value
        self._flags[name].using_default_value = False

    def is_parsed(self):
        return self._parsed

    def mark_as_parsed(self):
        self.__dict__["_parsed"] = True

    def unparse_flags(self):
        for f in self._flags.values():
            f.value, f.using_default_value, f.present = f.default, True, 0
        self.__dict__["_parsed"] = False

    def flag_values_dict(self):
        return {name: f.value for name, f in self._flags.items()}

    # -- parsing ----------------------------------------------------------------
    def __call__(self, argv, known_only=False):
        if isinstance(argv, str) or not hasattr(argv, "__iter__"):
            raise TypeError("argv should be a tuple/list of strings, not bytes or string.")
        argv = list(argv)
        if not argv:
            raise ValueError("argv cannot be an empty list, and must contain the program "
                             "name as the first element.")
        unknown, rest = self._parse_args(argv[1:], known_only)
        if unknown:
            raise UnrecognizedFlagError(*unknown[0])
        self.mark_as_parsed()
        for name in self._required:
            if self._flags[name].value is None:
                raise IllegalFlagValueError(f"flag --{name}=None: Flag --{name} must have a "
                                            "value other than None.")
        return [argv[0]] + rest

    def _parse_args(self, args, known_only):
        """(unknown (name, arg) pairs, arguments left for the program)."""
        flags, unknown, rest = self._flags, [], []
        it = iter(args)
        for arg in it:
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)        # positional: keep going (GNU style)
                continue
            if arg == "--":
                if known_only:
                    rest.append(arg)
                break
            body = arg[2:] if arg.startswith("--") else arg[1:]
            name, eq, value = body.partition("=")
            value = value if eq else None
            if not name:
                rest.append(arg)
                continue
            flag = flags.get(name)
            if flag is not None:
                if value is None:
                    if flag.boolean:
                        value = "true"
                    else:
                        try:
                            value = next(it)
                        except StopIteration:
                            raise Error(f"Missing value for flag {arg}") from None
            elif name.startswith("no") and len(name) > 2 and \
                    getattr(flags.get(name[2:]), "boolean", False):
                if value is not None:
                    raise ValueError(f"{arg} does not take an argument")
                flag, value = flags[name[2:]], "false"
            if flag is None:
                if known_only:
                    rest.append(arg)
                else:
                    unknown.append((name, arg))
                continue
            flag.parse(value)
        rest.extend(it)
        return unknown, rest


FLAGS = FlagValues(lazy=True)


def _caller_module():
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame.f_globals.get("__name__", "<unknown>") if frame else "<unknown>"


def _define(name, default, help, parser, kind, flag_values, boolean=False):
    if not isinstance(name, str) or not name:
        raise Error("Flag name must be a non-empty string")
    flag = Flag(name, default, help, parser, kind, boolean, _caller_module())
    flag_values[name] = flag
    return flag


def DEFINE_string(name, default, help, flag_values=FLAGS, **_):
    return _define(name, default, help, str, "string", flag_values)


def _bounded(conv, lower, upper):
    def parse(text):
        value = conv(text)
        if lower is not None and value < lower:
            raise ValueError(f"{value} is not >= {lower}")
        if upper is not None and value > upper:
            raise ValueError(f"{value} is not <= {upper}")
        return value
    return parse


def _to_int(text):
    if isinstance(text, bool):
        raise TypeError(f"expected an integer, got {text!r}")
    if isinstance(text, int):
        return text
    s = str(text).strip()
    base = 16 if s.lower().lstrip("+-").startswith("0x") else 10
    return int(s, base)


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,
                   flag_values=FLAGS, **_):
    return _define(name, default, help, _bounded(_to_int, lower_bound, upper_bound),
                   "int", flag_values)


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,
                 flag_values=FLAGS, **_):
    return _define(name, default, help, _bounded(float, lower_bound, upper_bound),
                   "float", flag_values)


def DEFINE_boolean(name, default, help, flag_values=FLAGS, **_):
    return _define(name, default, help, _parse_bool, "bool", flag_values, boolean=True)


DEFINE_bool = DEFINE_boolean


def DEFINE_enum(name, default, enum_values, help, flag_values=FLAGS, **_):
    values = list(enum_values)
    if not values:
        raise ValueError(f"enum_values cannot be empty, found \"{enum_values}\"")

    def parse(text):
        if text not in values:
            raise ValueError(f"value should be one of <{'|'.join(values)}>")
        return text
    return _define(name, default, help, parse, "enum", flag_values)


def DEFINE_list(name, default, help, flag_values=FLAGS, **_):
    return _define(name, default, help, _parse_list, "list", flag_values)


def mark_flag_as_required(flag_name, flag_values=FLAGS):
    """Parsing fails unless the flag ends up with a value other than None."""
    if flag_name not in flag_values:
        raise KeyError(flag_name)
    flag_values._required.append(flag_name)


def mark_flags_as_required(flag_names, flag_values=FLAGS):
    for name in flag_names:
        mark_flag_as_required(name, flag_values)


def run(main=None, argv=None):
    """tf.app.run: parses the flags in `argv` (sys.argv by default), leaving
    unknown ones in the arguments, then exits with main(remaining argv)."""
    main = main or sys.modules["__main__"].main
    try:
        args = FLAGS(sys.argv if argv is None else argv, known_only=True)
    except Error as e:
        sys.stderr.write(f"FATAL Flags parsing error: {e}\n")
        sys.exit(1)
    sys.exit(main(args))
