#!/usr/bin/env python3
"""Reference renderer for runner/render's differential test.

Renders every corpus/*.sls file with Python's Jinja2 configured as Salt
configures it (salt/utils/templates.py render_jinja_tmpl): a sandboxed
environment with StrictUndefined, the do and loopcontrols extensions,
Salt's import_yaml/import_json/import_text tags and serialisation filters,
the template context as globals, Salt's finalizer, and the final newline
re-appended. The rendered text is then loaded as Salt loads SLS YAML
(PyYAML SafeLoader, timestamps kept as strings, duplicate keys refused).

Usage: jinja_ref.py CORPUS_DIR CONTEXT_JSON   -> JSON on stdout:
  {"file.sls": {"text": str|null, "data": any, "error": str|null}, ...}
"""
import io
import json
import os
import re
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox
import yaml
from jinja2 import nodes
from jinja2.ext import Extension


def sort_data(x):
    # statectl's opts are Go maps, iterated in sorted key order; give the
    # reference the same order so iteration results compare. Pillar and
    # grains keep the file's order on both sides.
    if isinstance(x, dict):
        return {k: sort_data(x[k]) for k in sorted(x)}
    if isinstance(x, list):
        return [sort_data(v) for v in x]
    return x


# --- salt.utils.data.traverse_dict_and_list / dictupdate.update ---------
def traverse(data, key, default, delimiter=":"):
    ptr = data
    for part in key.split(delimiter):
        if isinstance(ptr, list):
            try:
                idx = int(part)
            except ValueError:
                for emb in (x for x in ptr if isinstance(x, dict)):
                    if part in emb:
                        ptr = emb[part]
                        break
                else:
                    return default
            else:
                try:
                    ptr = ptr[idx]
                except IndexError:
                    return default
        else:
            try:
                ptr = ptr[part]
            except (KeyError, TypeError):
                return default
    return ptr


def dictupdate(dest, upd, merge_lists=False):
    for k, v in upd.items():
        dv = dest.get(k)
        if isinstance(dv, dict) and isinstance(v, dict):
            dest[k] = dictupdate(dv, v, merge_lists)
        elif merge_lists and isinstance(dv, list) and isinstance(v, list):
            dest[k] = dv + [x for x in v if x not in dv]
        else:
            dest[k] = v
    return dest


def make_salt(grains, pillar, opts):
    import copy

    def pillar_get(key, default="", merge=False, merge_nested_lists=None, delimiter=":", **_):
        if merge:
            if isinstance(default, dict):
                ret = traverse(pillar, key, {}, delimiter)
                if isinstance(ret, dict):
                    return dictupdate(copy.deepcopy(default), ret, bool(merge_nested_lists))
            elif isinstance(default, list):
                ret = traverse(pillar, key, [], delimiter)
                if isinstance(ret, list):
                    out = copy.deepcopy(default)
                    out.extend([x for x in ret if x not in out])
                    return out
        return traverse(pillar, key, default, delimiter)

    def grains_get(key, default="", delimiter=":", **_):
        return traverse(grains, key, default, delimiter)

    def config_get(key, default="", delimiter=":", **_):
        missing = object()
        for src in (opts, grains, pillar):
            v = traverse(src, key, missing, delimiter)
            if v is not missing:
                return v
        return default

    def item(data):
        def fn(*args, **kwargs):
            default = kwargs.get("default", "")
            delimiter = kwargs.get("delimiter", ":")
            return {a: traverse(data, a, default, delimiter) for a in args}
        return fn

    funcs = {
        "pillar.get": pillar_get,
        "grains.get": grains_get,
        "config.get": config_get,
        "pillar.items": lambda: pillar,
        "grains.items": lambda: grains,
        "pillar.item": item(pillar),
        "grains.item": item(grains),
    }

    class Module:
        def __init__(self, name):
            self.name = name

        def __getattr__(self, fn):
            return funcs[self.name + "." + fn]

    class Salt(dict):
        # salt.pillar.get(...) as Salt's LazyLoader allows.
        def __getattr__(self, name):
            return Module(name)

    return Salt(funcs)


# --- salt.utils.yamlencoding and salt.utils.jinja filters ---------------
def yaml_dquote(text):
    with io.StringIO() as ostream:
        em = yaml.emitter.Emitter(ostream, width=sys.maxsize)
        em.write_double_quoted(str(text))
        return ostream.getvalue()


def yaml_squote(text):
    with io.StringIO() as ostream:
        em = yaml.emitter.Emitter(ostream, width=sys.maxsize)
        em.write_single_quoted(str(text))
        return ostream.getvalue()


def yaml_encode(data):
    node = yaml.representer.SafeRepresenter().represent_data(data)
    if not isinstance(node, yaml.ScalarNode):
        raise TypeError("yaml_encode() only works with YAML scalar data;"
                        " failed for {}".format(type(data)))
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "str":
        return yaml_dquote(node.value)
    return node.value


def to_bool(val):
    if val is None:
        return False
    if isinstance(val, bool):
        return val
    if isinstance(val, str):
        return val.lower() in ("yes", "1", "true")
    if isinstance(val, int):
        return val > 0
    if not isinstance(val, (str, int, float, bool, tuple)):
        return len(val) > 0
    return False


def unique(values):
    ret = []
    for v in values:
        if v not in ret:
            ret.append(v)
    return ret


def _flags(ignorecase, multiline):
    f = 0
    if ignorecase:
        f |= re.I
    if multiline:
        f |= re.M
    return f


def regex_search(txt, rgx, ignorecase=False, multiline=False):
    m = re.search(rgx, txt, _flags(ignorecase, multiline))
    return m.groups() if m else None


def regex_match(txt, rgx, ignorecase=False, multiline=False):
    m = re.match(rgx, txt, _flags(ignorecase, multiline))
    return m.groups() if m else None


def regex_replace(txt, rgx, val, ignorecase=False, multiline=False):
    return re.compile(rgx, _flags(ignorecase, multiline)).sub(val, txt)


def tojson(val, indent=None, **options):
    options.setdefault("ensure_ascii", True)
    if indent is not None:
        options["indent"] = indent
    return (json.dumps(val, **options).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027"))


def format_json(value, sort_keys=True, indent=None):
    return jinja2.utils.markupsafe.Markup(
        json.dumps(value, sort_keys=sort_keys, indent=indent, ensure_ascii=False).strip())


def format_yaml(value, flow_style=True):
    txt = yaml.safe_dump(value, default_flow_style=flow_style, allow_unicode=True).strip()
    if txt.endswith("\n..."):
        txt = txt[:-4]
    return jinja2.utils.markupsafe.Markup(txt)


def load_yaml(value):
    return yaml.load(str(value), Loader=SaltLoader)


def load_json(value):
    return json.loads(str(value))


class PrintableDict(dict):
    def __str__(self):
        out = []
        for k, v in self.items():
            if isinstance(v, str):
                out.append("{!r}: {!r}".format(k, v))
            else:
                out.append("{!r}: {!s}".format(k, v))
        return "{" + ", ".join(out) + "}"

    __repr__ = lambda self: "{" + ", ".join("{!r}: {!r}".format(k, v) for k, v in self.items()) + "}"


def finalizer(data):
    def explore(d):
        if isinstance(d, dict):
            return PrintableDict([(k, explore(v)) for k, v in d.items()])
        if isinstance(d, (list, tuple, set)):
            return d.__class__([explore(v) for v in d])
        return d
    return explore(data)


class SerializerExtension(Extension):
    """import_yaml / import_json / import_text as Salt defines them: import
    the file as a template module, then load its rendered text; and the
    load_yaml / load_json block tags."""
    tags = {"import_yaml", "import_json", "import_text", "load_yaml", "load_json"}

    def parse(self, parser):
        kind = parser.stream.current.value
        if kind.startswith("load_"):
            lineno = next(parser.stream).lineno
            parser.stream.expect("name:as")
            target = parser.parse_assign_target()
            macro_name = "_" + parser.free_identifier().name
            body = parser.parse_statements(("name:endload",), drop_needle=True)
            return [
                nodes.Macro(macro_name, [], [], body).set_lineno(lineno),
                nodes.Assign(target, nodes.Filter(
                    nodes.Call(nodes.Name(macro_name, "load").set_lineno(lineno), [], [], None, None)
                    .set_lineno(lineno), kind, [], [], None, None).set_lineno(lineno)).set_lineno(lineno),
            ]
        import_node = parser.parse_import()
        target, lineno = import_node.target, import_node.lineno
        flt = {"import_yaml": "load_yaml", "import_json": "load_json", "import_text": "string"}[kind]
        return [import_node, nodes.Assign(
            nodes.Name(target, "store").set_lineno(lineno),
            nodes.Filter(nodes.Name(target, "load").set_lineno(lineno), flt, [], [], None, None)
            .set_lineno(lineno)).set_lineno(lineno)]


# --- Salt's SLS YAML loader ---------------------------------------------
class SaltLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, "found conflicting ID '{}'".format(key), key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


SaltLoader.add_constructor("tag:yaml.org,2002:timestamp", SaltLoader.construct_scalar)
SaltLoader.add_constructor("tag:yaml.org,2002:map", SaltLoader.construct_yaml_map)


def keys_to_str(x):
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return {"__float__": repr(x)}  # not representable in JSON
    if isinstance(x, dict):
        return {str(k): keys_to_str(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [keys_to_str(v) for v in x]
    return x


def tpl_paths(rel, sls):
    tpldir = os.path.dirname(rel)
    slspath = tpldir if sls else ""
    return {
        "tplpath": rel, "tplfile": rel, "tpldir": tpldir or ".",
        "tpldot": tpldir.replace("/", "."), "slspath": slspath,
        "slsdotpath": slspath.replace("/", "."), "slscolonpath": slspath.replace("/", ":"),
        "sls_path": slspath.replace("/", "_"),
    }


class SaltLikeLoader(jinja2.FileSystemLoader):
    """Names are relative to the file root; "./" and "../" names are
    relative to the importing template's directory (tpldir), as in Salt's
    SaltCacheLoader."""

    def get_source(self, environment, template):
        if template.split("/", 1)[0] in ("..", "."):
            template = os.path.normpath("/".join((environment.globals["tpldir"], template)))
        return super().get_source(environment, template)


def render(root, rel, ctx):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        src = f.read()
    newline = "\n" if src.endswith("\n") else ""
    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        loader=SaltLikeLoader(root),
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", SerializerExtension],
        finalize=finalizer,
    )
    env.filters.update({
        "yaml_encode": yaml_encode, "yaml_dquote": yaml_dquote, "yaml_squote": yaml_squote,
        "json": format_json, "tojson": tojson, "yaml": format_yaml, "to_bool": to_bool,
        "unique": unique, "regex_match": regex_match, "regex_search": regex_search,
        "regex_replace": regex_replace, "load_yaml": load_yaml, "load_json": load_json,
    })
    sls = rel[:-4].replace("/", ".") if rel.endswith(".sls") else ""
    if sls.endswith(".init"):
        sls = sls[:-5]
    context = dict(ctx)
    context.update({"saltenv": "base", "sls": sls})
    context.update(tpl_paths(rel, sls))
    env.globals.update(context)
    return env.from_string(src).render(**context) + newline


def main():
    root, ctx_file = sys.argv[1], sys.argv[2]
    with open(ctx_file, encoding="utf-8") as f:
        raw = json.load(f)
    grains, pillar, opts = raw.get("grains", {}), raw.get("pillar", {}), sort_data(raw.get("opts", {}))
    ctx = {"grains": grains, "pillar": pillar, "opts": opts, "salt": make_salt(grains, pillar, opts)}
    out = {}
    names = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".sls"):
                names.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    for name in sorted(names):
        res = {"text": None, "data": None, "error": None}
        try:
            res["text"] = render(root, name, ctx)
            data = yaml.load(res["text"], Loader=SaltLoader)
            res["data"] = keys_to_str(data if data is not None else {})
        except Exception as exc:  # the Go side must fail too
            res["error"] = "{}: {}".format(type(exc).__name__, exc)
        out[name] = res
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
