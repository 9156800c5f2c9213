{# top comment
   spanning lines #}
raw:
  test.nop:
    - literal: "{% raw %}{{ not rendered }}{% endraw %}"
    - after: {{ grains.id }} {# trailing comment #}
