"""A Kubernetes API for the tests: kmock's ``KubernetesEmulator`` (objects kept in memory, real HTTP, no
controllers, no schema) on ``127.0.0.1:PORT``, each request's method and path appended to ``LOG`` with who made it (the
played controller or a client: the test asks what the drill called). Run as ``python apiserver.py PORT LOG``; it serves until it is signalled."""
import asyncio
import sys

import kmock

#: The User-Agent of the played controller's calls (:mod:`kubernetes_drills.cluster`), told apart in the log.
CONTROLLER_AGENT = "played-controller"


class LoggedEmulator(kmock.KubernetesEmulator):
    """The emulator, appending ``METHOD PATH`` of each request to the log before it is served."""

    log_path: str = ""

    async def _handle(self, request):
        with open(LoggedEmulator.log_path, "a", encoding="utf-8") as log:
            agent = "controller" if request.headers.get("User-Agent") == CONTROLLER_AGENT else "client"
            log.write(f"{agent} {getattr(request.method, 'value', request.method)} {request.url.path}\n")
        return await super()._handle(request)


#: The resources a real API server always serves (kmock knows a resource only once declared or stored).
RESOURCES = {"v1/pods": "Pod", "apps/v1/statefulsets": "StatefulSet", "apps/v1/deployments": "Deployment"}


async def serve(port: int) -> None:
    async with LoggedEmulator() as emulator, kmock.Server(emulator, port=port):
        for resource, kind in RESOURCES.items():
            emulator.resources[resource].kind = kind
        print(f"serving on 127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    LoggedEmulator.log_path = sys.argv[2]
    asyncio.run(serve(int(sys.argv[1])))
