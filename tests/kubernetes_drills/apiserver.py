"""A Kubernetes API for the tests: kmock's ``KubernetesEmulator`` (objects kept in memory, real HTTP, no
controllers, no schema) behind a front of our own on ``127.0.0.1:PORT`` that

- serves ``pods/NAME/exec`` itself over WebSocket (``v4.channel.k8s.io``, as the API server streams an exec), as
  the played kubelet: ``kill -STOP -1`` / ``kill -CONT -1`` (every process of the container but its init) signal
  the process group of the real process the pod stands for (``PODS``: a JSON file ``{pod: pidfile}``), anything
  else fails with exit code 126;
- serves the resource metrics API (``metrics.k8s.io/v1beta1`` PodMetrics of a pod in ``PODS``) as metrics-server
  would, at a resolution of :data:`RESOLUTION_S`: the CPU of the pod's process over the last window, and its memory
  (the memory in use of its cgroup when it runs in one of its own, as a container's working set counts every
  process of the container; else its RSS); 404 for a pod whose process is not running;
- answers SelfSubjectAccessReviews as an RBAC authorizer would: allowed, but for the ``"verb group/resource"``
  entries of ``denied.json`` beside ``PODS`` (the test says what this service account may not do);
- passes every other request to kmock;
- appends each request's ``METHOD PATH`` to ``LOG`` with who made it (the played controller or a client: the test
  asks what the drill called).

Run as ``python apiserver.py PORT LOG PODS``; it serves until it is signalled."""
import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import kmock
import psutil
from aiohttp import web

from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.targets.cgroups import cgroup_of

#: The User-Agent of the played controller's calls (:mod:`kubernetes_drills.cluster`), told apart in the log.
CONTROLLER_AGENT = "played-controller"
#: The resources a real API server with Chaos Mesh installed serves (kmock knows a resource only once declared or
#: stored).
RESOURCES = {"v1/pods": "Pod", "apps/v1/statefulsets": "StatefulSet", "apps/v1/deployments": "Deployment",
             "chaos-mesh.org/v1alpha1/networkchaos": "NetworkChaos", "chaos-mesh.org/v1alpha1/stresschaos": "StressChaos",
             "chaos-mesh.org/v1alpha1/timechaos": "TimeChaos"}
SIGNALS = {"-STOP": signal.SIGSTOP, "-CONT": signal.SIGCONT}
#: How often the played metrics-server scrapes (seconds; metrics-server's own default is 15).
RESOLUTION_S = 1.0
#: The container of every trader pod (as :mod:`kubernetes_drills.cluster` makes them).
CONTAINER = "aitrapp"


class PlayedMetrics:
    """The played metrics-server (module docstring): :meth:`scrape` every :data:`RESOLUTION_S`, :meth:`pod` the
    PodMetrics of one pod (None when it has none)."""

    def __init__(self, pods_file: Path) -> None:
        self.pods_file = pods_file
        self.usage: dict = {}
        self._last: dict = {}
        self._own = cgroup_of(None)

    def scrape(self) -> None:
        pods = json.loads(self.pods_file.read_text()) if self.pods_file.exists() else {}
        now = time.time()
        for pod, pidfile in pods.items():
            try:
                process = psutil.Process(int(Path(pidfile).read_text().split()[0]))
                times = process.cpu_times()
                cpu, rss = times.user + times.system, process.memory_info().rss
                group = cgroup_of(process.pid)
                memory = group.memory_bytes() if not group.same_as(self._own) else None
            except (OSError, ValueError, IndexError, psutil.Error, ChaosAitrappError):
                self.usage.pop(pod, None)
                self._last.pop(pod, None)
                continue
            last = self._last.get(pod)
            self._last[pod] = (now, process.pid, cpu)
            if last is None or last[1] != process.pid:
                continue  # a rate needs two scrapes of the same process
            cores = max(0.0, (cpu - last[2]) / max(now - last[0], 1e-3))
            self.usage[pod] = (now, {"cpu": f"{round(cores * 1e9)}n", "memory": f"{(memory or rss) // 1024}Ki"})

    def pod(self, namespace: str, name: str) -> "dict | None":
        found = self.usage.get(name)
        if found is None:
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(found[0]))
        return {"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp},
                "timestamp": stamp, "window": f"{RESOLUTION_S:g}s",
                "containers": [{"name": CONTAINER, "usage": found[1]}]}


def _status(code: int, message: str = "") -> bytes:
    """The exec's status frame (channel 3) as the API server sends it."""
    if code == 0:
        return b"\x03" + json.dumps({"metadata": {}, "status": "Success"}).encode()
    return b"\x03" + json.dumps({"metadata": {}, "status": "Failure", "message": message, "reason": "NonZeroExitCode",
                                 "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}).encode()


def _run(pod: str, command: list, pods_file: Path) -> tuple:
    """``(exit code, stderr)`` of ``command`` in ``pod`` (module docstring)."""
    pods = json.loads(pods_file.read_text()) if pods_file.exists() else {}
    if pod not in pods:
        return 1, f"pod {pod} runs nothing the played kubelet knows"
    if len(command) != 3 or command[0] != "kill" or command[1] not in SIGNALS or command[2] != "-1":
        return 126, f"the played kubelet runs only kill -STOP|-CONT -1, not {command}"
    try:
        os.killpg(int(Path(pods[pod]).read_text().split()[0]), SIGNALS[command[1]])
    except (OSError, ValueError, IndexError) as exc:
        return 1, f"kill: {exc}"
    return 0, ""


def front(upstream: str, log: Path, pods_file: Path, metrics: PlayedMetrics) -> web.Application:
    """The front app (module docstring) before kmock at ``upstream``."""
    session: dict = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        agent = "controller" if request.headers.get("User-Agent") == CONTROLLER_AGENT else "client"
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{agent} {request.method} {request.path}\n")
        parts = request.path.strip("/").split("/")
        if len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods" and parts[6] == "exec":
            ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io", "channel.k8s.io"))
            await ws.prepare(request)
            code, err = _run(parts[5], request.query.getall("command", []), pods_file)
            if err:
                await ws.send_bytes(b"\x02" + err.encode())
            await ws.send_bytes(_status(code, err))
            await ws.close()
            return ws
        if len(parts) == 7 and parts[:4] == ["apis", "metrics.k8s.io", "v1beta1", "namespaces"] and parts[5] == "pods":
            found = metrics.pod(parts[4], parts[6])
            if found is None:
                return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                          "reason": "NotFound", "message": f"podmetrics {parts[6]!r} not found"},
                                         status=404)
            return web.json_response(found)
        if request.method == "POST" and request.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":
            review = await request.json()
            asked = review["spec"]["resourceAttributes"]
            resource = asked["resource"] + (f"/{asked['subresource']}" if asked.get("subresource") else "")
            what = f"{asked['verb']} {asked['group'] + '/' if asked.get('group') else ''}{resource}"
            denied_file = pods_file.with_name("denied.json")
            denied = json.loads(denied_file.read_text()) if denied_file.exists() else []
            review["status"] = {"allowed": what not in denied, **({"denied": True} if what in denied else {})}
            return web.json_response(review, status=201)
        if "client" not in session:
            session["client"] = aiohttp.ClientSession()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with session["client"].request(request.method, upstream + request.path_qs, headers=headers,
                                             data=await request.read()) as answer:
            body = await answer.read()
            return web.Response(status=answer.status, body=body,
                                content_type=answer.content_type or "application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve(port: int, log: Path, pods_file: Path) -> None:
    with socket.socket() as probe:  # kmock on a free port of its own, behind the front
        probe.bind(("127.0.0.1", 0))
        inner = probe.getsockname()[1]
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator, port=inner):
        for resource, kind in RESOURCES.items():
            emulator.resources[resource].kind = kind
        metrics = PlayedMetrics(pods_file)
        runner = web.AppRunner(front(f"http://127.0.0.1:{inner}", log, pods_file, metrics))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"serving on 127.0.0.1:{port} (kmock on {inner})", flush=True)
        while True:
            await asyncio.to_thread(metrics.scrape)
            await asyncio.sleep(RESOLUTION_S)  # the scrape interval: a resolution, not a wait for a state


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
