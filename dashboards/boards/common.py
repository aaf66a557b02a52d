"""What every Vigie dashboard shares, on grafana-foundation-sdk's typed builders.

`Board` lays panels out left to right on Grafana's 24-column grid (a panel that does not
fit starts a new line; a row starts a new line) and gives each one the `datasource`
variable, a unit and PromQL targets with refIds A, B, … Every dashboard has the template
variables `datasource` (Prometheus), `job` and `instance`, so one Grafana serves several
sites. Positions are set here rather than by the SDK's own placement, which puts a panel
that overflows the line past column 24 before wrapping.
"""
from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus as gp
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import dashboard as md
from grafana_foundation_sdk.models import prometheus as mp

DS = md.DataSourceRef(type_val="prometheus", uid="${datasource}")
SEL = 'job=~"$job", instance=~"$instance"'
GRID = 24
PANELS = {"timeseries": timeseries.Panel, "stat": stat.Panel, "table": table.Panel}


def var_datasource():
    return gd.DatasourceVariable("datasource").label("Data source").type("prometheus")


def var_query(name, label, query):
    """A multi-value variable with "All" (sent as `.*`), its values from label_values(…)."""
    return (gd.QueryVariable(name).label(label).datasource(DS)
            .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
            .refresh(md.VariableRefresh.ON_TIME_RANGE_CHANGED).multi(True).include_all(True)
            .all_value(".*").sort(md.VariableSort.ALPHABETICAL_ASC))


def jobinst(metric):
    """datasource, then job and instance of the series of `metric`."""
    return [var_datasource(),
            var_query("job", "Job", f"label_values({metric}, job)"),
            var_query("instance", "Instance", f'label_values({metric}{{job=~"$job"}}, instance)')]


def thr(name):
    """The alert threshold as a flat line (vigie:threshold:* from alerting-rules/thresholds.yml)."""
    return (f"vigie:threshold:{name}", "threshold")


def steps(*pairs):
    """Absolute colour thresholds: steps((None, "green"), (1, "orange"), …)."""
    return gd.ThresholdsConfig().mode(md.ThresholdsMode.ABSOLUTE).steps(
        [md.Threshold(value=v, color=c) for v, c in pairs])


class Board:
    def __init__(self, uid, title, desc, variables, tags):
        self.uid = uid
        self.dash = (gd.Dashboard(title).uid(uid).description(desc).tags(["vigie"] + tags)
                     .editable().tooltip(md.DashboardCursorSync.CROSSHAIR).timezone("browser")
                     .time("now-6h", "now").refresh("1m")
                     .link(gd.DashboardLink("Vigie").type(md.DashboardLinkType.DASHBOARDS)
                           .tags(["vigie"]).as_dropdown(True)))
        for v in variables:
            self.dash.with_variable(v)
        self.ids, self.x, self.y, self.row_h = 0, 0, 0, 0

    def _id(self):
        self.ids += 1
        return self.ids

    def _newline(self):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0

    def _place(self, w, h):
        if self.x + w > GRID:
            self._newline()
        pos = md.GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        self._newline()
        self.dash.with_row(gd.Row(title).id(self._id()).collapsed(False)
                           .grid_pos(md.GridPos(h=1, w=GRID, x=0, y=self.y)))
        self.y += 1

    def panel(self, kind, title, targets, unit="short", w=8, h=8, desc="", decimals=None, thresholds=None):
        """targets: PromQL strings or (expr, legend) pairs; tables query instantly."""
        p = (PANELS[kind]().id(self._id()).title(title).datasource(DS)
             .grid_pos(self._place(w, h)).unit(unit))
        if desc:
            p.description(desc)
        if decimals is not None:
            p.decimals(decimals)
        if thresholds is not None:
            p.thresholds(thresholds)
        for i, t in enumerate(targets):
            expr, legend = t if isinstance(t, tuple) else (t, "")
            q = gp.Dataquery().ref_id(chr(ord("A") + i)).datasource(DS).expr(expr)
            if legend:
                q.legend_format(legend)
            if kind == "table":
                q.instant().format(mp.PromQueryFormat.TABLE)
            p.with_target(q)
        self.dash.with_panel(p)

    def ts(self, title, targets, unit="short", **kw):
        self.panel("timeseries", title, targets, unit, **kw)

    def stat(self, title, targets, unit="short", w=6, h=5, **kw):
        self.panel("stat", title, targets, unit, w=w, h=h, **kw)

    def table(self, title, targets, w=24, h=8, **kw):
        self.panel("table", title, targets, "short", w=w, h=h, **kw)

    def build(self):
        return self.dash.build()
