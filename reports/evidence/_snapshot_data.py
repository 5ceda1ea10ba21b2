"""The inert snapshot's allowlist: what a captured shop page needs to look as captured, and
nothing that runs, embeds, fetches or navigates (the policy measured in the sanitiser study:
0 of 298 mutation-XSS and URL-trick vectors survive it)."""

HTML_TAGS = frozenset(
    """a abbr acronym address area article aside b bdi bdo big blockquote br button caption
    center cite code col colgroup data datalist dd del details dfn dir div dl dt em fieldset
    figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hgroup hr i img input ins kbd
    label legend li main map mark menu meter nav ol optgroup option output p picture pre progress
    q rp rt rtc ruby s samp search section select small source span strike strong style sub
    summary sup table tbody td textarea tfoot th thead time tr tt u ul var wbr""".split()
)
SVG_TAGS = frozenset(
    """svg g path circle ellipse line polyline polygon rect text tspan defs linearGradient
    radialGradient stop clipPath mask symbol use desc pattern""".split()
)
TAGS = HTML_TAGS | SVG_TAGS | {t.lower() for t in SVG_TAGS}
# removed together with everything inside them (ammonia panics if a tag is in both sets)
CLEAN_CONTENT = frozenset(
    """script noscript template title iframe frame frameset object embed applet noembed
    noframes xmp math portal""".split()
)
GLOBAL_ATTRIBUTES = frozenset(
    """class id style title lang dir role hidden width height align valign bgcolor color border
    cellpadding cellspacing colspan rowspan alt name type value placeholder checked selected
    disabled readonly for label open start reversed span size face datetime sizes media loading
    decoding src srcset href xlink:href itemprop itemscope itemtype translate min max step
    multiple maxlength rows cols wrap nowrap headers scope abbr summary shape coords
    viewBox viewbox d fill fill-rule fill-opacity clip-rule stroke stroke-width stroke-linecap
    stroke-linejoin stroke-dasharray stroke-opacity opacity cx cy r rx ry x y x1 x2 y1 y2 dx dy
    points transform preserveAspectRatio preserveaspectratio offset stop-color stop-opacity
    gradientUnits gradientunits gradientTransform gradienttransform clip-path mask font-size
    font-family font-weight text-anchor dominant-baseline focusable version patternUnits
    patternunits""".split()
)
# attributes that name a URL: renamed to data-original-* before cleaning (kept for the reader,
# never fetched); only data:image sources and in-document SVG references stay live
URL_ATTRIBUTES = frozenset(
    """href src srcset action formaction poster background data ping lowsrc dynsrc codebase
    cite longdesc manifest usemap icon xlink:href""".split()
)
