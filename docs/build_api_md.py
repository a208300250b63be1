"""Render the estimators' numpydoc docstrings as plain markdown: docs/api.md.

The Sphinx reference (docs/api.rst) is the same content; this one reads on a
code host or in an editor without building anything. Run from anywhere::

    python docs/build_api_md.py            # write docs/api.md
    python docs/build_api_md.py --check    # exit 1 if docs/api.md is stale

The docstrings are parsed with ``numpydoc.docscrape``; the reST inline markup
they use (literals, roles such as ``:class:`~sklearn.utils.Bunch```) is
turned into markdown. The output depends only on the docstrings, never on
which tools are installed: the docstrings' examples are copied as written,
and docs/api.md is excluded from ``ruff format`` (pyproject.toml) so that
the formatter does not rewrite them.
"""

import argparse
import inspect
import re
import sys
from pathlib import Path

from numpydoc.docscrape import ClassDoc, FunctionDoc

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not

import skweighting  # noqa: E402

ESTIMATORS = [
    "SparseAttentionClassifier",
    "SparseAttentionRegressor",
    "SparseAttentionEnsemble",
    "SparseAttentionClassifierCV",
    "SparseAttentionRegressorCV",
    "AttentionDisplay",
    "TemperaturePathDisplay",
]
# Methods documented in full, in this order, when the class has them.
# Other public methods (inherited from scikit-learn: metadata routing,
# set_output, ...) are listed with their one-line summary.
METHODS = [
    "from_estimator",
    "plot",
    "fit",
    "predict",
    "predict_proba",
    "score",
    "transform",
    "fit_transform",
    "get_feature_names_out",
    "get_params",
    "set_params",
]
# Where a :ref: label of the docstrings points in these markdown pages.
REF_LABELS = {"user_guide": "user_guide.md"}

# -- reST inline markup -> markdown -------------------------------------------
_ROLE = re.compile(r":(?:py:)?(\w+):`([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")
_INTERPRETED = re.compile(r"(?<![`\w])`([^`]+)`(?![`\w])")


def _role(match):
    role, content = match.group(1), match.group(2)
    explicit = re.fullmatch(r"(.*?)\s*<(.+)>", content)
    if role == "ref":
        text, label = explicit.groups() if explicit else (content, content)
        target = REF_LABELS.get(label)
        return f"[{text}]({target})" if target else text
    if explicit:  # :class:`text <target>`
        return explicit.group(1)
    if role == "term":
        return content
    if content.startswith("~"):  # :class:`~a.b.C` shows as C
        content = content[1:].rsplit(".", 1)[-1]
    return f"`{content}`"


def inline(text):
    """reST inline markup of one paragraph to markdown."""
    text = _ROLE.sub(_role, text)
    # ``literal`` -> `literal`; a single-backtick interpreted text is code too.
    placeholders = []

    def keep(match):
        placeholders.append(match.group(1))
        return f"\0{len(placeholders) - 1}\0"

    text = _LITERAL.sub(keep, text)
    text = _INTERPRETED.sub(keep, text)
    text = re.sub(r"\0(\d+)\0", lambda m: f"`{placeholders[int(m.group(1))]}`", text)
    return text


def paragraphs(lines):
    """Docstring lines to markdown paragraphs (blank lines separate them)."""
    out, current = [], []
    for line in list(lines) + [""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(inline(" ".join(current)))
            current = []
    return "\n\n".join(out)


def type_text(text):
    """A numpydoc type: keep it verbatim in code, braces included."""
    text = _ROLE.sub(lambda m: _role(m).strip("`"), text)
    text = text.replace("``", "").replace("`", "").strip()
    return f"`{text}`" if text else ""


def parameter_list(items):
    lines = []
    for item in items:
        if item.name:
            head = f"- **`{item.name}`**"
            if item.type:
                head += f" : {type_text(item.type)}"
        else:  # a Returns entry given by its type only
            head = f"- {type_text(item.type)}"
        lines.append(head)
        body = paragraphs(item.desc)
        if body:
            lines.append("")
            lines.extend(f"  {line}" if line else "" for line in body.splitlines())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def examples(lines):
    text = "\n".join(lines).strip("\n")
    return f"```pycon\n{text}\n```\n" if text else ""


def see_also(items):
    lines = []
    for names, desc in items:
        rendered = ", ".join(f"`{name}`" for name, _ in names)
        summary = paragraphs(desc)
        lines.append(f"- {rendered}" + (f": {summary}" if summary else ""))
    return "\n".join(lines) + "\n"


def signature(obj, name, *, drop_self=False):
    sig = inspect.signature(obj)
    if drop_self:
        params = list(sig.parameters.values())[1:]
        sig = sig.replace(parameters=params)
    text = f"{name}{sig}"
    if len(text) > 80:
        params = [str(p) for p in sig.parameters.values()]
        # Show the keyword-only marker the way Python prints it.
        kinds = [p.kind for p in sig.parameters.values()]
        rendered, seen_star = [], False
        for param, kind in zip(params, kinds):
            if kind == inspect.Parameter.KEYWORD_ONLY and not seen_star:
                rendered.append("*")
                seen_star = True
            rendered.append(param)
        text = f"{name}(\n" + "".join(f"    {p},\n" for p in rendered) + ")"
    return f"```python\n{text}\n```\n"


def sections(doc, order):
    parts = []
    for title in order:
        content = doc[title]
        if not content:
            continue
        if title in ("Parameters", "Attributes", "Returns", "Yields", "Raises"):
            body = parameter_list(content)
        elif title == "See Also":
            body = see_also(content)
        elif title == "Examples":
            body = examples(content)
        else:
            body = paragraphs(content) + "\n"
        parts.append((title, body))
    return parts


def render_method(cls, name):
    method = getattr(cls, name)
    static = inspect.getattr_static(cls, name)
    is_property = isinstance(static, property)
    if is_property:
        doc = FunctionDoc(method.fget, role="meth", config={})
        header = f"#### `{name}` (property)\n\n"
        sig = ""
    else:
        doc = FunctionDoc(method, role="meth", config={})
        header = f"#### `{name}`\n\n"
        # A classmethod is bound already: its signature has no cls to drop.
        bound = isinstance(static, classmethod)
        sig = signature(method, name, drop_self=not bound) + "\n"
    out = [header, sig]
    summary = paragraphs(doc["Summary"] + [""] + doc["Extended Summary"])
    if summary:
        out.append(summary + "\n\n")
    for title, body in sections(doc, ["Parameters", "Returns", "Yields", "Raises"]):
        out.append(f"**{title}**\n\n{body}\n")
    return "".join(out)


def public_methods(cls):
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        if callable(getattr(cls, name)) or isinstance(attr, property):
            names.append(name)
    return names


def render_class(name):
    cls = getattr(skweighting, name)
    doc = ClassDoc(cls, config={"show_class_members": False})
    out = [f"## `{name}`\n\n", signature(cls, f"skweighting.{name}"), "\n"]
    out.append(paragraphs(doc["Summary"] + [""] + doc["Extended Summary"]) + "\n\n")
    for title, body in sections(
        doc, ["Parameters", "Attributes", "See Also", "Notes", "Examples"]
    ):
        out.append(f"### {title}\n\n{body}\n")

    available = public_methods(cls)
    full = [m for m in METHODS if m in available]
    properties = [
        m
        for m in available
        if isinstance(inspect.getattr_static(cls, m), property) and m not in full
    ]
    out.append("### Methods\n\n")
    for method in full + properties:
        out.append(render_method(cls, method))
    rest = [m for m in available if m not in full and m not in properties]
    if rest:
        out.append("#### Also available\n\n")
        out.append(
            "Inherited from scikit-learn, with scikit-learn's usual meaning:\n\n"
        )
        out.append("| method | summary |\n|---|---|\n")
        for method in rest:
            summary = " ".join(FunctionDoc(getattr(cls, method))["Summary"])
            out.append(f"| `{method}` | {inline(summary)} |\n")
        out.append("\n")
    return "".join(out)


def render():
    header = (
        "<!-- Generated by docs/build_api_md.py from the docstrings; "
        "do not edit by hand. -->\n\n"
        "# API reference\n\n"
        f"skweighting {skweighting.__version__}. The same reference, built "
        "with Sphinx, is docs/api.rst; the concepts are explained in the "
        "[user guide](user_guide.md).\n\n"
        "| class | summary |\n|---|---|\n"
    )
    rows = []
    for name in ESTIMATORS:
        summary = " ".join(ClassDoc(getattr(skweighting, name))["Summary"])
        anchor = name.lower()
        rows.append(f"| [`{name}`](#{anchor}) | {inline(summary)} |\n")
    body = "\n".join(render_class(name) for name in ESTIMATORS)
    text = header + "".join(rows) + "\n" + body
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if docs/api.md is stale"
    )
    parser.add_argument("--output", type=Path, default=DOCS / "api.md")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python docs/build_api_md.py")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
