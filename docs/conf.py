"""Sphinx configuration for the skweighting documentation.

Build the HTML pages (from the repository root)::

    python -m pip install ".[docs]"
    python -m sphinx -b html docs docs/_build/html -W --keep-going

The API reference is rendered from the numpydoc docstrings of the estimators;
the user guide and the other ``.md`` pages are read by MyST. Links into the
scikit-learn, NumPy, SciPy and Python documentation are resolved with
intersphinx when those sites can be reached; offline, such references are
shown as plain code, without a warning.
"""

import os
import re
import socket
import sys
from pathlib import Path

from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, installed or not

import skweighting  # noqa: E402

project = "skweighting"
author = "The skweighting developers"
copyright = "The skweighting developers"  # noqa: A001
release = skweighting.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# api.md is the same reference as api.rst, rendered for reading without
# Sphinx (docs/build_api_md.py); Sphinx builds api.rst.
exclude_patterns = ["_build", "api.md", "Thumbs.db", ".DS_Store"]
# Pages that other parts of the project write; index.rst lists those that
# exist (see _source_read), so a page not written yet is not an error.
DOCS = Path(__file__).resolve().parent
OPTIONAL_PAGES = ["benchmarks", "reliability", "persistence"]

# -- MyST ------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# -- autodoc / numpydoc ----------------------------------------------------
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- intersphinx -----------------------------------------------------------
INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "joblib": ("https://joblib.readthedocs.io/en/stable", None),
}


def _online(host="scikit-learn.org", port=443, timeout=2.0):
    if os.environ.get("SKWEIGHTING_DOCS_OFFLINE"):
        return False
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


intersphinx_mapping = INTERSPHINX if _online() else {}
intersphinx_timeout = 5

# -- HTML ------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skweighting {release}"
html_static_path = []


def _unresolved_as_code(app, env, node, contnode):
    """Show a reference into another project's docs as plain text when
    intersphinx could not resolve it: scikit-learn's glossary terms and
    classes, and the labels used by the docstrings the estimators inherit
    from scikit-learn (``:ref:`metadata_routing```, ...)."""
    if node.get("reftype") == "term" or node.get("refdomain") == "py":
        return nodes.literal(text=node.astext())
    if node.get("reftype") == "ref" and (
        "docstring of sklearn." in str(node.source or "")
        or node.get("reftarget") in SKLEARN_LABELS
    ):
        return nodes.Text(node.astext())
    return None


# Labels of scikit-learn's documentation that the estimators' own docstrings
# point to (``:ref:`User Guide <metadata_routing>```), as scikit-learn's do.
SKLEARN_LABELS = {"metadata_routing"}


_MD_LINK = re.compile(r"\[([^\]]+)\]\(([\w-]+)\.md(#[^)\s]*)?\)")


def _source_read(app, docname, source):
    """Adapt the pages, written to read well on a code host, to Sphinx."""
    text = source[0]
    if docname == "index":
        present = [p for p in OPTIONAL_PAGES if (DOCS / f"{p}.md").exists()]
        toctree = ""
        if present:
            toctree = (
                ".. toctree::\n   :maxdepth: 1\n"
                "   :caption: Measurements and operations\n\n"
                + "".join(f"   {page}\n" for page in present)
            )
        text = text.replace(".. optional-pages\n", toctree)

    def link(match):
        label, page, anchor = match.group(1), match.group(2), match.group(3) or ""
        if page == "api":  # api.md is the markdown twin of api.rst
            return f"[{label}](api.rst{anchor})"
        if not (DOCS / f"{page}.md").exists():
            return label  # a page not written yet: keep the words
        return match.group(0)

    if app.env.doc2path(docname).suffix == ".md":
        text = _MD_LINK.sub(link, text)
    source[0] = text


_SHAPE = re.compile(r"of shape \(([^)]*)\)")
_BARE_ATTRIBUTE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_attribute_shapes(app, what, name, obj, options, lines):
    """``ndarray of shape (n_iter_,)`` or ``(n_samples, n_nonzero_ * K)``: a
    trailing underscore is an RST link target; quote such names as
    scikit-learn does (``(`n_features_in_`,)``)."""

    def quote(match):
        inside = _BARE_ATTRIBUTE.sub(r"`\1`", match.group(1))
        return f"of shape ({inside})"

    lines[:] = [_SHAPE.sub(quote, line) for line in lines]


def setup(app):
    # Runs after intersphinx (priority 500), so online builds still link.
    app.connect("missing-reference", _unresolved_as_code, priority=900)
    app.connect("source-read", _source_read)
    # Before numpydoc (priority 500) parses the docstring.
    app.connect("autodoc-process-docstring", _quote_attribute_shapes, priority=100)
