{#- Jinja2's built-in filters as Salt states and pillars use them; each value is the
    filter output as a JSON string, so the YAML stage loads every output alike. Not here (HTML or
    non-deterministic, not met in Salt trees): escape, e, forceescape, safe,
    striptags, urlize, xmlattr, random, pprint. -#}
filters:
  abs: {% set v %}{{ -3 | abs }} {{ -2.5 | abs }} {{ 0 | abs }}{% endset %}{{ v | tojson }}
  attr: {% set v %}{{ grains | attr("nope") is defined }} {{ "x" | attr("upper") is defined }}{% endset %}{{ v | tojson }}
  batch: {% set v %}{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, "x") | list }}{% endset %}{{ v | tojson }}
  capitalize: {% set v %}{{ "hELLO wORLD" | capitalize }}{% endset %}{{ v | tojson }}
  center: {% set v %}[{{ "ab" | center(8) }}]{% endset %}{{ v | tojson }}
  count: {% set v %}{{ [1, 2, 3] | count }} {{ "abc" | count }} {{ {"a": 1} | count }}{% endset %}{{ v | tojson }}
  default: {% set v %}{{ nope | default("d") }} {{ "" | default("d", true) }} {{ none | default("d") }} {{ false | d("x", boolean=true) }}{% endset %}{{ v | tojson }}
  dictsort: {% set v %}{{ {"b": 1, "a": 2, "C": 0} | dictsort }} {{ {"b": 1, "a": 2} | dictsort(by="value", reverse=true) }} {{ {"b": 1, "A": 2} | dictsort(true) }}{% endset %}{{ v | tojson }}
  filesizeformat: {% set v %}{{ 1000 | filesizeformat }} {{ 123456789 | filesizeformat }} {{ 1024 | filesizeformat(true) }} {{ 1 | filesizeformat }}{% endset %}{{ v | tojson }}
  first: {% set v %}{{ [3, 1] | first }} {{ "xy" | first }}{% endset %}{{ v | tojson }}
  float: {% set v %}{{ "2.5" | float }} {{ "x" | float }} {{ "x" | float(1.5) }} {{ 3 | float }} {{ true | float }}{% endset %}{{ v | tojson }}
  format: {% set v %}{{ "%s-%d" | format("a", 3) }} {{ "%05.1f" | format(2.25) }}{% endset %}{{ v | tojson }}
  groupby: {% set v %}{% for g in [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}] | groupby("k") %}{{ g.grouper }}={{ g.list | map(attribute="v") | list }};{% endfor %}{% endset %}{{ v | tojson }}
  indent: {% set v %}{{ "a\nb\n\nc" | indent(2) }}|{{ "a\nb" | indent(4, true) }}|{{ "a\n\nb" | indent(2, blank=true) }}{% endset %}{{ v | tojson }}
  int: {% set v %}{{ "42" | int }} {{ "x" | int }} {{ "x" | int(7) }} {{ 3.9 | int }} {{ "0x1A" | int(0, 16) }} {{ "12" | int(base=8) }} {{ true | int }} {{ "3.5" | int }}{% endset %}{{ v | tojson }}
  items: {% set v %}{{ {"b": 1, "a": 2} | items | list }}{% endset %}{{ v | tojson }}
  join: {% set v %}{{ [1, 2, 3] | join }} {{ ["a", "b"] | join(", ") }} {{ [{"n": "x"}, {"n": "y"}] | join("/", attribute="n") }}{% endset %}{{ v | tojson }}
  last: {% set v %}{{ [3, 1] | last }} {{ "xy" | last }}{% endset %}{{ v | tojson }}
  length: {% set v %}{{ [1, 2] | length }} {{ "abc" | length }} {{ {"a": 1} | length }} {{ range(3) | length }}{% endset %}{{ v | tojson }}
  list: {% set v %}{{ "ab" | list }} {{ {"b": 1, "a": 2} | list }} {{ range(3) | list }} {{ (1, 2) | list }}{% endset %}{{ v | tojson }}
  lower: {% set v %}{{ "ABC Def" | lower }}{% endset %}{{ v | tojson }}
  map: {% set v %}{{ ["a", "b"] | map("upper") | list }} {{ [{"n": 1}, {}] | map(attribute="n", default=0) | list }} {{ ["1", "2"] | map("int") | sum }}{% endset %}{{ v | tojson }}
  max: {% set v %}{{ [3, 9, 2] | max }} {{ ["b", "A", "c"] | max }} {{ ["b", "A", "c"] | max(case_sensitive=true) }} {{ [{"v": 1}, {"v": 5}] | max(attribute="v") }}{% endset %}{{ v | tojson }}
  min: {% set v %}{{ [3, 9, 2] | min }} {{ ["b", "A", "c"] | min }} {{ [{"v": 1}, {"v": 5}] | min(attribute="v") }}{% endset %}{{ v | tojson }}
  reject: {% set v %}{{ [1, 2, 3, 4] | reject("odd") | list }} {{ [0, 1, "", "x", none] | reject | list }}{% endset %}{{ v | tojson }}
  rejectattr: {% set v %}{{ [{"a": true, "n": 1}, {"a": false, "n": 2}] | rejectattr("a") | map(attribute="n") | list }}{% endset %}{{ v | tojson }}
  replace: {% set v %}{{ "aaa" | replace("a", "b") }} {{ "aaa" | replace("a", "b", 2) }}{% endset %}{{ v | tojson }}
  reverse: {% set v %}{{ [1, 2, 3] | reverse | list }} {{ "abc" | reverse }}{% endset %}{{ v | tojson }}
  round: {% set v %}{{ 2.567 | round(1) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, "ceil") }} {{ 2.9 | round(0, "floor") }} {{ 42 | round }}{% endset %}{{ v | tojson }}
  select: {% set v %}{{ [1, 2, 3, 4] | select("even") | list }} {{ [0, 1, "", "x", none] | select | list }} {{ [1, 5, 9] | select("gt", 4) | list }}{% endset %}{{ v | tojson }}
  selectattr: {% set v %}{{ [{"a": true, "n": 1}, {"a": false, "n": 2}] | selectattr("a") | map(attribute="n") | list }} {{ [{"r": "db"}, {"r": "web"}] | selectattr("r", "equalto", "db") | list }}{% endset %}{{ v | tojson }}
  slice: {% set v %}{{ [1, 2, 3, 4, 5] | slice(2) | list }} {{ [1, 2, 3] | slice(2, 0) | list }}{% endset %}{{ v | tojson }}
  sort: {% set v %}{{ [3, 1, 2] | sort }} {{ ["b", "A", "c"] | sort }} {{ ["b", "A", "c"] | sort(case_sensitive=true) }} {{ [3, 1] | sort(reverse=true) }} {{ [{"v": 2}, {"v": 1}] | sort(attribute="v") | map(attribute="v") | list }}{% endset %}{{ v | tojson }}
  string: {% set v %}{{ 1 | string }} {{ none | string }} {{ true | string }} {{ [1, "a"] | string }} {{ 1.0 | string }}{% endset %}{{ v | tojson }}
  sum: {% set v %}{{ [1, 2, 3] | sum }} {{ [1, 2] | sum(start=10) }} {{ [{"v": 1}, {"v": 2}] | sum(attribute="v") }} {{ [0.1, 0.2] | sum }}{% endset %}{{ v | tojson }}
  title: {% set v %}{{ "hello wORLD-foo bar_baz" | title }}{% endset %}{{ v | tojson }}
  tojson: {% set v %}{{ {"b": 1, "a": [true, none, "x<y"]} | tojson }} {{ "é" | tojson }} {{ {"a": 1} | tojson(indent=2) }}{% endset %}{{ v | tojson }}
  trim: {% set v %}[{{ "  x  " | trim }}] [{{ "xxaxx" | trim("x") }}]{% endset %}{{ v | tojson }}
  truncate: {% set v %}{{ "foo bar baz qux" | truncate(9) }} {{ "foo bar baz qux" | truncate(9, true) }} {{ "foo bar baz qux" | truncate(11, false, "..", 0) }} {{ "short" | truncate(9) }}{% endset %}{{ v | tojson }}
  unique: {% set v %}{{ [1, 2, 1, 3] | unique | list }} {{ ["a", "A", "b"] | unique | list }}{% endset %}{{ v | tojson }}
  upper: {% set v %}{{ "abc" | upper }}{% endset %}{{ v | tojson }}
  urlencode: {% set v %}{{ "a b&c/d" | urlencode }} {{ {"k": "v w", "x": 1} | urlencode }}{% endset %}{{ v | tojson }}
  wordcount: {% set v %}{{ "one two  three" | wordcount }}{% endset %}{{ v | tojson }}
  wordwrap: {% set v %}{{ "the quick brown fox jumps" | wordwrap(10) }}{% endset %}{{ v | tojson }}
