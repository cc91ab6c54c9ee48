"""Sphinx configuration of the lts_nb documentation site (built by scripts/docs.sh; sources in docs/_build/src,
written there by scripts/docs_prep.py from the notebooks). Everything the pages load ships with the site: the vega
bundle (vl-convert), MathJax (sphinx-mathjax-offline), the theme (furo) and the search index."""
import configparser
from pathlib import Path

HERE = Path(__file__).resolve().parent
_cfg = configparser.ConfigParser(); _cfg.read(HERE.parent/'settings.ini'); _cfg = _cfg['DEFAULT']

project = _cfg['lib_name']
author = _cfg['author']
copyright = _cfg['copyright']
release = version = _cfg['version']

extensions = ['myst_nb', 'sphinx-mathjax-offline']
exclude_patterns = ['**.ipynb_checkpoints']
source_suffix = {'.ipynb': 'myst-nb', '.md': 'myst-nb'}

# notebooks keep their committed outputs; nothing is executed
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'          # show_doc entries are MyST object directives
nb_ipywidgets_js = {}                       # no widget manager from a CDN
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'amsmath', 'attrs_block', 'attrs_inline', 'colon_fence', 'deflist']
myst_heading_anchors = 3
myst_dmath_double_inline = True

# a broken cross-reference to our own objects fails the build (docs.sh passes -W); other libraries' types
# (torch.Tensor, pd.DataFrame, ...) are not documented here and stay plain text
nitpicky = True
nitpick_ignore_regex = [(r'py:.*', r'(?!lts_nb\.).*'), (r'py:.*', r'lts_nb\.\w+\.(Path|Any|Callable|Iterable)')]
add_module_names = False
python_display_short_literal_types = True
toc_object_entries = False

html_theme = 'furo'
html_title = f'{project} {release}'
html_static_path = ['_static', '_build/static']
html_css_files = ['lts_docs.css']
html_js_files = []
html_copy_source = False
html_show_sourcelink = False
html_show_search_summary = False       # the summaries are fetched, which file:// forbids (CORS)
html_theme_options = {'navigation_with_keys': True}
html_last_updated_fmt = None

def _page_scripts(app, pagename, templatename, context, doctree):
    "The vega bundle and the chart loader only on pages that have charts."
    body = context.get('body') or ''
    if 'class="lts-chart"' in body:
        app.add_js_file('vega-bundle.js', priority=600)
        app.add_js_file('lts_charts.js', priority=601)

def setup(app):
    app.connect('html-page-context', _page_scripts)
