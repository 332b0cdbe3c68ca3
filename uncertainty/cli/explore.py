"""``sora-uq explore``: a live page where moving an assumption moves the intervals."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from ..defaults import DEFAULT_EXPLORE_SAMPLES
from ..errors import UserError
from .options import add_priors_option, port, samples, seed

LOOPBACK = "127.0.0.1"


def cmd_explore(args) -> int:
    from ..explore import Explorer

    shown = sys.stderr
    print("sora-uq explore: loading the priors and compiling the model (once)...", file=shown,
          flush=True)
    explorer = Explorer(args.priors, model=args.model, samples=args.samples, seed=args.seed)
    listening = _listen(args.host, args.port)
    explorer.summary({})  # compile now, so that the page's first answer is quick
    port = listening.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}/"
    if not _is_loopback(args.host):
        print(f"sora-uq explore: serving on {args.host}: anyone who can reach this machine "
              "can use the page and write prior files and reports here", file=shown)
    print(f"sora-uq explore: {url} (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        _serve(explorer, listening, args)
    except KeyboardInterrupt:
        print("sora-uq explore: stopped", file=shown)
        return 130
    return 0


def _serve(explorer, listening: socket.socket, args) -> None:
    import uvicorn

    from ..explore.server import create_app

    hosts = (args.host, "localhost", LOOPBACK, "[::1]", "::1")
    app = create_app(explorer, Path(args.save_dir), Path(args.reports_dir), hosts=hosts)
    # Ctrl-C: uvicorn stops serving (open connections get a second), then raises the signal
    # again, which the CLI turns into exit 130.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound and listening at ``host:port`` (port 0: any free one), or one line on why
    not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        listening.listen(128)
    except (OSError, OverflowError) as err:
        listening.close()
        reason = getattr(err, "strerror", None) or str(err)
        raise UserError(f"--host {host} --port {port}: cannot listen there ({reason}); "
                        "choose another --port (0: any free one)") from None
    return listening


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def add(commands) -> None:
    explore = commands.add_parser(
        "explore", help="a live page: move an assumption, watch the intervals move",
        description="Serve a page where every assumption of a prior file is a slider: the "
                    "headline intervals, their distributions and the tornado follow as you "
                    "move them. Save the changed priors as a new prior file, or write the "
                    "full report for them, from the page.")
    add_priors_option(explore)  # and --model
    explore.add_argument("--host", default=LOOPBACK,
                         help=f"address to serve on (default: {LOOPBACK}, this machine only)")
    explore.add_argument("--port", type=port, default=8000,
                         help="port to serve on (default: 8000; 0: any free port)")
    explore.add_argument("--no-browser", action="store_true",
                         help="print the page's address without opening a browser")
    explore.add_argument("--samples", type=samples, default=DEFAULT_EXPLORE_SAMPLES,
                         help=f"draws per answer (default: {DEFAULT_EXPLORE_SAMPLES:,}; the "
                              "page shows the Monte Carlo error they give)")
    explore.add_argument("--seed", type=seed, default=0,
                         help="random seed, the same for every answer (default: 0)")
    explore.add_argument("--save-dir", default=".",
                         help="where 'Save as prior file' writes (default: here)")
    explore.add_argument("--reports-dir", default="reports",
                         help="where 'Open report' writes (default: reports/)")
    explore.set_defaults(func=cmd_explore, main_thread=True)  # uvicorn handles Ctrl-C
