"""The main job end to end, on one machine, with real processes and real HTTP.

A cooperative's tablet records a buying season while the hub is unreachable; the
cooperative gateway relays it; the hub verifies, stores and commits it; the
manufacturer receives, processes and sells; the trace leads back to farms and plots.
Run by scripts/demo.sh; everything lives under .run/demo and is rebuilt each run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".run" / "demo"
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "edge" / "sample"
COOP, MAKER = "coop-soubre", "maker-abidjan"
STEPS = 10


class Demo:
    def __init__(self) -> None:
        self.step_no = 0
        self.hub_port = _port(8000)
        self.gateway_port = _port(8470)
        self.hub_url = f"http://127.0.0.1:{self.hub_port}"
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.hub_env = _env(
            COCOA_HUB_HOME=str(WORK / "hub"),
            COCOA_HUB_LOG_FORMAT="text",
            # Devices sync to the URL the hub gives at enrollment: make it this hub's.
            COCOA_HUB_PUBLIC_URL=self.hub_url,
        )
        self.gateway_env = _env(COCOA_EDGE_HOME=str(WORK / "gateway"))
        self.tablet_env = _env(COCOA_EDGE_HOME=str(WORK / "tablet"))

    def step(self, text: str) -> None:
        self.step_no += 1
        print(f"\n[{self.step_no}/{STEPS}] {text}", flush=True)

    # --- processes -------------------------------------------------------------

    def hub(self, *args: str) -> str:
        return _run([str(BIN / "cocoa-hub"), *args], self.hub_env)

    def edge(self, who: str, *args: str) -> str:
        env = self.gateway_env if who == "gateway" else self.tablet_env
        return _run([str(BIN / "cocoa-edge"), *args], env)

    def start_hub(self) -> None:
        self.procs["hub"] = _serve(
            [str(BIN / "cocoa-hub"), "serve", "--port", str(self.hub_port)],
            self.hub_env,
            self.hub_url + "/healthz",
            WORK / "hub.log",
        )
        (WORK / "hub.pid").write_text(str(self.procs["hub"].pid))

    def stop_hub(self) -> None:
        _stop(self.procs.pop("hub"))
        (WORK / "hub.pid").unlink(missing_ok=True)

    def start_gateway(self) -> None:
        cmd = [str(BIN / "cocoa-edge"), "serve", "--port", str(self.gateway_port)]
        self.procs["gateway"] = _serve(
            cmd + ["--no-scheduler"], self.gateway_env, self.gateway_url + "/", WORK / "gateway.log"
        )

    # --- the story -------------------------------------------------------------

    def run(self) -> None:
        self.set_up_hub()
        self.set_up_devices()
        self.season_offline()
        self.relay_and_sync()
        product = self.manufacture()
        self.show_trace(product)

    def set_up_hub(self) -> None:
        self.step("hub: database, organisations and users")
        self.hub("db", "upgrade")
        self.hub(
            "create-org", COOP, "--kind", "cooperative",
            "--name", "Coopérative Agricole de Soubré", "--location", "Soubré, Côte d'Ivoire",
            "--contact", "Clerk of the cooperative",
        )
        self.hub(
            "create-org", MAKER, "--kind", "manufacturer",
            "--name", "Chocolaterie d'Abidjan", "--location", "Abidjan, Côte d'Ivoire",
        )
        self.passwords = {}
        for user, role, org in (
            ("admin", "admin", None),
            ("maker", "manufacturer", MAKER),
            ("auditor", "auditor", None),
        ):
            secret = WORK / f"{user}.password"
            password = secrets.token_urlsafe(12)
            secret.write_text(password)
            secret.chmod(0o600)
            args = ["create-user", user, "--role", role, "--password-file", str(secret)]
            self.hub(*args, *(["--org", org] if org else []))
            self.passwords[user] = password
        self.maker_token = self.hub("api-token", "maker").strip()
        self.start_hub()
        print(f"      hub up at {self.hub_url}")

    def set_up_devices(self) -> None:
        self.step("cooperative gateway and tablet: keys and one-time enrollment")
        for who, kind, label in (
            ("gateway", "gateway", "Soubré cooperative gateway"),
            ("tablet", "tablet", "Buying clerk tablet 1"),
        ):
            token = self.hub("enroll-token", "--org", COOP, "--role", "cooperative").strip()
            print("      " + self.edge(who, "init", "--label", label).strip())
            self.edge(who, "enroll", "--hub", self.hub_url, "--token", token, "--kind", kind)
        self.edge("gateway", "sync")  # learns the tablet's key from the hub
        self.start_gateway()
        print(f"      gateway serving the tablets at {self.gateway_url}")

        self.step("the hub goes out of reach for the buying season")
        self.stop_hub()
        print("      hub stopped")

    def season_offline(self) -> None:
        self.step("tablet, offline: import the cooperative's farmer registry and plot map")
        print(_indent(self.edge("tablet", "import-farmers", str(SAMPLE / "farmers.csv"))))
        print(_indent(self.edge("tablet", "import-plots", str(SAMPLE / "plots.geojson"))))

        self.step("tablet, offline: a buying season of harvests, purchases and drying")
        certificate = WORK / "fairtrade-certificate.txt"
        certificate.write_text("Fairtrade certificate FLO-ID 4567 — Coopérative Agricole de Soubré\n")
        farmers = [f"DEMO-000{n}" for n in range(1, 6)]
        purchases = []
        for week, day in enumerate(("2026-10-05", "2026-10-12", "2026-10-19")):
            for n, farmer in enumerate(farmers):
                plot = f"{farmer}-P1"
                kg = 180 + 37 * n + 21 * week
                harvest = self.record("harvest", farmer=farmer, plot=plot,
                                      mass_g=kg * 1000 + 400, harvested_on=day)
                body = {"farmer": farmer, "plot": plot, "mass_g": kg * 1000, "harvest": harvest,
                        "grade": "grade-1" if n % 3 else "grade-2",
                        "price": kg * 1800, "currency": "XOF"}
                attach = [certificate] if week == 0 and n == 0 else []
                purchases.append((self.record("purchase", attach=attach, **body), kg * 1000, farmer))
            self.record("drying", stage="fermentation",
                        purchases=[p for p, _, _ in purchases[-5:]], started_on=day)
        print(f"      {len(purchases)} purchases, {len(purchases)} harvests, 3 fermentations")

        self.step("tablet, offline: bag purchases into two lots and dispatch them")
        # Certified beans are bagged apart so the lot keeps its certification.
        fairtrade = {"DEMO-0001", "DEMO-0005"}
        certified = [p for p in purchases if p[2] in fairtrade]
        other = [p for p in purchases if p[2] not in fairtrade]
        self.lot_masses = {}
        for chunk in (certified, other):
            inputs = [{"purchase": p, "mass_g": g} for p, g, _ in chunk]
            lot = self.record("lot", inputs=inputs, bags=len(chunk))
            self.lot_masses[lot] = sum(g for _, g, _ in chunk)
        self.lots = list(self.lot_masses)
        self.shipment = self.record(
            "dispatch", lots=self.lots, to_org=MAKER, carrier="Transports Soubré", vehicle="AB-1234-CI"
        )
        # The cooperative sells the lots to the manufacturer: ownership moves with a
        # transfer, which the ledger needs before anyone else may process them.
        for lot in self.lots:
            self.record("transfer", asset=lot, to_org=MAKER)
        print(f"      lots {', '.join(self.lots)} dispatched as {self.shipment} and sold to {MAKER}")
        print(_indent(self.edge("tablet", "status")))

    def record(self, rtype: str, attach: list[Path] = (), **body) -> str:
        args = ["record", rtype, "--json", json.dumps(body)]
        for path in attach:
            args += ["--attach", str(path)]
        return json.loads(self.edge("tablet", *args))["body"].get("id", "")

    def relay_and_sync(self) -> None:
        self.step("tablet → gateway over the cooperative's network; gateway cannot reach the hub")
        self.edge_sync("tablet", "--upstream", self.gateway_url)
        failed = subprocess.run(
            [str(BIN / "cocoa-edge"), "sync"], env=self.gateway_env, capture_output=True, text=True
        )
        said = [line for line in failed.stdout.splitlines() if line.startswith("sync")]
        print(f"      gateway sync while the hub is down (exit {failed.returncode}): "
              f"{said[-1] if said else failed.stdout.strip()[-200:]}")

        self.step("the hub is back: the gateway forwards the tablet's signed records")
        self.start_hub()
        self.edge_sync("gateway")
        print(_indent(self.hub("ledger", "commit")))
        print(_indent(self.hub("ledger", "verify")))
        self.edge_sync("tablet", "--upstream", self.gateway_url)

    def edge_sync(self, who: str, *args: str) -> None:
        print(_indent(self.edge(who, "sync", *args)))

    def manufacture(self) -> str:
        self.step("manufacturer, online: receive the lots, make chocolate, sell it")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {self.maker_token}"
        # The manufacturer weighs what arrives; here the scale agrees with the lots.
        received = [{"lot": lot, "mass_g": grams} for lot, grams in self.lot_masses.items()]
        self.api_post(api, "/api/receipt", {"shipment": self.shipment, "lots": received})
        used = [{"lot": r["lot"], "mass_g": r["mass_g"] * 9 // 10} for r in received]
        product = self.api_post(api, "/api/process", {
            "product": "Dark chocolate 70 % — Soubré single origin",
            "inputs": used, "units": 24000, "output_mass_g": sum(u["mass_g"] for u in used) // 2,
        })["id"]
        self.api_post(api, "/api/sale", {"batch": product, "units": 6000, "buyer": "Épicerie Fine Plateau"})
        print(f"      product batch {product}: 24000 bars, 6000 sold")
        return product

    def api_get(self, api: requests.Session, path: str) -> dict:
        answer = api.get(self.hub_url + path, timeout=30)
        _check(answer, path)
        return answer.json()

    def api_post(self, api: requests.Session, path: str, body: dict) -> dict:
        answer = api.post(self.hub_url + path, json=body, timeout=60)
        _check(answer, path)
        return answer.json()

    def show_trace(self, product: str) -> None:
        self.step("trace of the chocolate back to farms and plots")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {self.maker_token}"
        trace = self.api_get(api, "/api/product/" + product)
        _print_trace(trace)
        record = next(e["record"] for e in trace["events"] if e["event"] == "Processed")
        proof = json.loads(self.hub("ledger", "proof", record))
        head = json.loads(self.hub("ledger", "verify"))["head"]
        # The check an auditor runs offline: Merkle path, then header links to the head.
        from hub.ledger.embedded import verify_proof

        verify_proof(proof, trusted_head=head)
        print(f"  ledger: processing record {record[:16]}… is in block {proof['block']}; "
              f"its proof verifies offline against head {head[:16]}…")
        print(
            f"\nOpen the console: {self.hub_url}/  (users admin, maker, auditor; "
            f"passwords in {WORK.relative_to(ROOT)}/<user>.password)\n"
            f"Consumer page of the bar: {self.hub_url}/t/{product}\n"
            f"The hub keeps running (pid {self.procs['hub'].pid}); stop it with: scripts/demo.sh stop"
        )


def _print_trace(trace: dict) -> None:
    product = trace["product"]
    print(f"  {product['name']}")
    print(f"  batch {product['id']} by {product['manufacturer']}: "
          f"{product['units']} units, {product['units_sold']} sold")
    for lot in trace.get("cacao_batches", []):
        cert = lot.get("certification") or "not certified"
        print(f"  ├─ lot {lot['id']} from {lot['supplier']} ({cert}, harvested from "
              f"{lot.get('harvest_date')}): {lot['quantity_g'] / 1000:,.1f} kg used, "
              f"{lot['remaining_g'] / 1000:,.1f} kg left")
    plots = trace.get("plots") or []
    farmers = trace.get("farmers") or []
    print(f"  └─ grown by {len(farmers)} farmers on {len(plots)} mapped plots:")
    for farmer in sorted(farmers, key=lambda f: f["id"]):
        own = [p for p in plots if p.get("farmer") == farmer["id"]]
        certs = ", ".join(farmer.get("certifications") or []) or "no certification"
        name = f" {farmer['name']}" if farmer.get("name") else ""
        print(f"     ├─ farmer {farmer['id']}{name}, {farmer.get('village')} ({certs})")
        for plot in own:
            kind = plot["geometry"]["type"].lower()
            area = plot.get("declared_area_ha")
            print(f"     │   └─ plot {plot.get('id')}: {kind}, {area} ha, "
                  f"GPS ±{plot.get('gps_accuracy_m')} m")
    events = trace.get("events") or []
    print("  events: " + " → ".join(dict.fromkeys(e["event"] for e in events)))


def _check(answer: requests.Response, what: str) -> None:
    if answer.status_code >= 400:
        raise SystemExit(f"demo: {what} answered {answer.status_code}: {answer.text[:400]}")


def _run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"demo: {' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stderr or done.stdout}"
        )
    return done.stdout


def _serve(cmd: list[str], env: dict, ready: str, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"demo: {cmd[0]} exited; see {log}")
        try:
            requests.get(ready, timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"demo: {ready} did not answer in 60 s; see {log}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise SystemExit("demo: no free port")


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCOA_")}
    env.update(extra)
    return env


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.strip().splitlines()[-12:])


def stop_previous() -> None:
    pid_file = WORK / "hub.pid"
    if pid_file.exists():
        try:
            os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            print("demo: stopped the hub of the previous run")
        except (ProcessLookupError, ValueError, PermissionError):
            pass
        time.sleep(1)


def main() -> int:
    stop_previous()
    if len(sys.argv) > 1 and sys.argv[1] == "stop":
        return 0

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    demo = Demo()
    began = time.monotonic()
    try:
        demo.run()
    except BaseException:
        # A failed run leaves nothing behind; a good one keeps the hub for the console.
        for proc in demo.procs.values():
            _stop(proc)
        (WORK / "hub.pid").unlink(missing_ok=True)
        raise
    gateway = demo.procs.pop("gateway", None)
    if gateway:
        _stop(gateway)
    print(f"\ndemo finished in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
