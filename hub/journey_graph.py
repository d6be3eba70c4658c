"""The journey of a trace as a left-to-right graph, laid out for inline SVG; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.units import kg

COLUMNS = ("Plots", "Purchases", "Cacao batches", "Shipments", "Products", "Sales")
NODE_W, NODE_H = 136, 40
COL_GAP, ROW_GAP = 64, 12
TOP = 28  # room for the column headings
# A column longer than this is cut and the rest folded into one "+N more" node, so a
# lot of three hundred purchases still gives a graph a person can read.
MAX_ROWS = 10
MAX_EDGE_W = 9.0


@dataclass
class Node:
    key: str
    col: int
    label: str
    sub: str = ""
    link: tuple[str, str] | None = None  # (kind, id): "lot", "product" or an anchor
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    src: str
    dst: str
    grams: int = 0
    units: int = 0
    path: str = ""
    width: float = 1.0
    label_x: float = 0.0
    label_y: float = 0.0
    labelled: bool = True  # False when the label would cover another; <title> stays

    @property
    def label(self) -> str:
        return f"{self.units:,} units" if self.units else kg(self.grams)


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    headings: list[tuple[float, str]] = field(default_factory=list)

    def node(self, key: str, col: int, label: str, sub: str = "", link=None) -> None:
        if key not in self.nodes:
            self.nodes[key] = Node(key, col, label, sub, link)

    def edge(self, src: str, dst: str, grams: int = 0, units: int = 0) -> None:
        if src in self.nodes and dst in self.nodes:
            self.edges.append(Edge(src, dst, grams, units))


def product_graph(doc: dict) -> Graph:
    """Plots → purchases → lots → shipments → the product → its sales."""
    graph = _origins(doc)
    product = doc["product"]
    pkey = f"product:{product['id']}"
    graph.node(pkey, 4, product["id"], product["name"], ("product", product["id"]))
    for lot in doc["cacao_batches"]:
        _to_user(graph, doc, lot["id"], pkey, lot["quantity_g"])
    for sale in doc.get("sales", []):
        key = f"sale:{sale['id']}"
        graph.node(key, 5, sale["id"] or "sale", sale["at"][:10], ("anchor", "events"))
        graph.edge(pkey, key, units=sale["units"])
    return layout(graph)


def lot_graph(doc: dict) -> Graph:
    """Plots → purchases → this lot → shipments → the products made of it."""
    graph = _origins(doc)
    for use in doc.get("uses", []):
        key = f"product:{use['product']}"
        graph.node(key, 4, use["product"], use.get("name") or "", ("product", key[8:]))
        _to_user(graph, doc, doc["cacao_batch"]["id"], key, use["quantity_g"])
    return layout(graph)


def _origins(doc: dict) -> Graph:
    graph = Graph()
    lots = doc.get("cacao_batches") or [doc["cacao_batch"]]
    for lot in lots:
        sub = f"{kg(lot['lot_quantity_g'])} · {lot['supplier']}"
        graph.node(f"lot:{lot['id']}", 2, lot["id"], sub, ("lot", lot["id"]))
    for p in doc["purchases"]:
        sub = f"{kg(p['mass_g'])} · {p['purchased_at'][:10]}"
        graph.node(f"purchase:{p['id']}", 1, p["id"], sub, ("anchor", "purchases"))
        graph.node(f"plot:{p['plot']}", 0, p["plot"], p["farmer"], ("anchor", "map"))
        graph.edge(f"plot:{p['plot']}", f"purchase:{p['id']}", p["mass_g"])
    for i in doc.get("inputs", []):
        graph.edge(f"purchase:{i['purchase']}", f"lot:{i['lot']}", i["mass_g"])
    for e in doc.get("lot_events", []):
        if e["event"] == "Shipped" and e.get("shipment"):
            _shipment(graph, doc, e)
    return graph


def _shipment(graph: Graph, doc: dict, shipped: dict) -> None:
    key = f"shipment:{shipped['shipment']}"
    received = [
        e
        for e in doc.get("lot_events", [])
        if e["event"] == "Received" and e.get("shipment") == shipped["shipment"]
    ]
    status = "received" if received else "in transit"
    sub = f"to {shipped.get('to') or '?'} · {status}"
    graph.node(key, 3, shipped["shipment"], sub, ("anchor", "events"))
    lot = _lot_mass(doc, shipped["object"])
    graph.edge(f"lot:{shipped['object']}", key, lot)


def _to_user(graph: Graph, doc: dict, lot_id: str, dst: str, grams: int) -> None:
    """Edge from the lot to where it was used, through its shipment when it had one."""
    lot = f"lot:{lot_id}"
    via = [e.dst for e in graph.edges if e.src == lot and e.dst[:9] == "shipment:"]
    # The last shipment of the lot is the one that brought it to its user.
    graph.edge(via[-1] if via else lot, dst, grams)


def _lot_mass(doc: dict, lot_id: str) -> int:
    lots = doc.get("cacao_batches") or [doc["cacao_batch"]]
    return next((lot["lot_quantity_g"] for lot in lots if lot["id"] == lot_id), 0)


def layout(graph: Graph) -> Graph:
    """Order each column to cut crossings, fold long columns, then place everything."""
    columns = _columns(graph)
    for _ in range(2):
        for col in range(1, len(columns)):
            _sort_by_neighbours(graph, columns, col, col - 1)
        for col in range(len(columns) - 2, -1, -1):
            _sort_by_neighbours(graph, columns, col, col + 1)
    for col, keys in enumerate(columns):
        if len(keys) > MAX_ROWS:
            columns[col] = _fold(graph, col, keys)
    _place(graph, columns)
    _route(graph)
    return graph


def _columns(graph: Graph) -> list[list[str]]:
    used = sorted({n.col for n in graph.nodes.values()})
    for n in graph.nodes.values():
        n.col = used.index(n.col)
    graph.headings = [(0.0, COLUMNS[c]) for c in used]
    columns: list[list[str]] = [[] for _ in used]
    for n in graph.nodes.values():
        columns[n.col].append(n.key)
    return columns


def _sort_by_neighbours(graph: Graph, columns, col: int, other: int) -> None:
    rank = {key: i for i, key in enumerate(columns[other])}
    own = {key: i for i, key in enumerate(columns[col])}

    def centre(key: str) -> float:
        near = [rank[e.dst] for e in graph.edges if e.src == key and e.dst in rank]
        near += [rank[e.src] for e in graph.edges if e.dst == key and e.src in rank]
        return sum(near) / len(near) if near else own[key]

    columns[col].sort(key=lambda key: (centre(key), own[key]))


def _fold(graph: Graph, col: int, keys: list[str]) -> list[str]:
    kept, folded = keys[: MAX_ROWS - 1], set(keys[MAX_ROWS - 1 :])
    more = f"more:{col}"
    heading = graph.headings[col][1].lower()
    graph.nodes[more] = Node(more, col, f"+{len(folded)} more", heading)
    for key in folded:
        del graph.nodes[key]
    merged: dict[tuple[str, str], Edge] = {}
    for e in graph.edges:
        src = more if e.src in folded else e.src
        dst = more if e.dst in folded else e.dst
        item = merged.setdefault((src, dst), Edge(src, dst))
        item.grams += e.grams
        item.units += e.units
    graph.edges = list(merged.values())
    return [*kept, more]


def _place(graph: Graph, columns: list[list[str]]) -> None:
    tallest = max(len(keys) for keys in columns)
    graph.height = TOP + tallest * (NODE_H + ROW_GAP)
    graph.width = len(columns) * (NODE_W + COL_GAP) - COL_GAP + 2
    for col, keys in enumerate(columns):
        x = 1 + col * (NODE_W + COL_GAP)
        graph.headings[col] = (x + NODE_W / 2, graph.headings[col][1])
        offset = (tallest - len(keys)) * (NODE_H + ROW_GAP) / 2
        for row, key in enumerate(keys):
            node = graph.nodes[key]
            node.x, node.y = x, TOP + offset + row * (NODE_H + ROW_GAP)


def _route(graph: Graph) -> None:
    heaviest = max((e.grams for e in graph.edges), default=0) or 1
    for e in graph.edges:
        a, b = graph.nodes[e.src], graph.nodes[e.dst]
        x0, y0 = a.x + NODE_W, a.y + NODE_H / 2
        x1, y1 = b.x, b.y + NODE_H / 2
        bend = (x1 - x0) / 2
        e.path = (
            f"M{x0:.1f},{y0:.1f} C{x0 + bend:.1f},{y0:.1f} "
            f"{x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        )
        share = e.grams / heaviest if e.grams else 0.2
        e.width = round(1.5 + (MAX_EDGE_W - 1.5) * share, 1)
        e.label_x, e.label_y = (x0 + x1) / 2, (y0 + y1) / 2 - 3
    _thin_labels(graph.edges)


def _thin_labels(edges: list[Edge]) -> None:
    """Hide edge labels that would sit on one already shown in the same gap."""
    shown: list[tuple[float, float]] = []
    for e in sorted(edges, key=lambda e: -e.grams):
        clash = any(
            abs(e.label_x - x) < 40 and abs(e.label_y - y) < 12 for x, y in shown
        )
        e.labelled = not clash
        if not clash:
            shown.append((e.label_x, e.label_y))
