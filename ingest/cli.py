"""``clearwell ingest --config FILE`` and ``clearwell ingest browse URL``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ingest.service import IngestService
    from sitefile.models import SiteConfig

log = logging.getLogger(__name__)

ingest_app = typer.Typer(
    help="Collect a site's Modbus and OPC UA data into the database.",
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")


@ingest_app.callback(invoke_without_command=True)
def ingest(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Site configuration (YAML): devices, servers and tags"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the configuration and print the plan only")
    ] = False,
) -> None:
    """Sync the configuration's tags into the database and run the collectors until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    from clearwell.cli import setup_logging
    from clearwell.errors import ConfigError
    from clearwell.settings import get_settings
    from ingest.service import IngestService
    from sitefile.load import load_config

    if config is None:
        raise ConfigError("clearwell ingest needs --config FILE (or: clearwell ingest browse URL)")
    site = load_config(config)
    if check:
        _print_plan(site)
        typer.echo(f"{config}: {len(site.tags)} tags, configuration valid")
        return
    settings = get_settings()
    setup_logging(settings)
    service = IngestService(site, settings.database_dsn, settings.data_dir, source=str(config))
    asyncio.run(_until_signalled(service))


async def _until_signalled(service: IngestService) -> None:
    """Run the service until SIGTERM (systemd, ``docker compose stop``) or SIGINT (Ctrl-C),
    then stop gracefully; a second signal stops at once."""
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("%s again: stopping at once (what is queued is lost)", sig.name)
            logging.shutdown()
            os._exit(128 + sig)
        log.info(
            "%s: stopping: finishing the poll in flight, writing or spooling what is queued,"
            " closing the sessions (%s again stops at once)",
            sig.name,
            sig.name,
        )
        stop.set()

    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await service.run_forever(stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    log.info("stopped")


def _print_plan(site: SiteConfig) -> None:
    from ingest.modbus.plan import plan_device
    from ingest.opcua.collector import OpcuaCollector
    from ingest.opcua.plan import OperationLimits, plan_reads, plan_subscriptions

    for device in site.modbus.devices:
        requests = plan_device(device, site.modbus_tags(device.name))
        typer.echo(f"{device.name} ({device.host}:{device.port} unit {device.unit_id}):")
        for r in requests:
            typer.echo(f"  {r.kind} {r.address}+{r.count}: {len(r.slots)} tags")
    for server in site.opcua.servers:
        items, polled = OpcuaCollector.items(site.opcua_tags(server.name))
        subs = plan_subscriptions(
            items,
            server.publishing_interval_s,
            server.max_items_per_subscription,
            OperationLimits(),
        )
        security: str = server.security_policy
        if security != "None":
            security += f" {server.mode}"
        typer.echo(f"{server.name} ({server.endpoint}, security {security}):")
        for i, s in enumerate(subs):
            typer.echo(
                f"  subscription {i + 1}: {s.items} monitored items every"
                f" {s.publishing_interval_s:g} s, {len(s.batches)} create calls"
            )
        for reads in plan_reads(polled, OperationLimits()):
            n = sum(len(b) for b in reads.batches)
            typer.echo(
                f"  poll every {reads.interval_s:g} s: {n} tags in {len(reads.batches)} reads"
            )


@ingest_app.command("browse")
def browse(
    endpoint: Annotated[str, typer.Argument(help="opc.tcp://host:port/path")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the configuration here (default: stdout)")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="The server's name in the config")] = "opcua",
    site_code: Annotated[str, typer.Option("--site-code")] = "site",
    site_name: Annotated[str, typer.Option("--site-name")] = "Site",
    security_policy: Annotated[
        str, typer.Option("--security-policy", help="None or Basic256Sha256")
    ] = "None",
    security_mode: Annotated[
        str | None, typer.Option("--security-mode", help="Sign or SignAndEncrypt")
    ] = None,
    server_certificate: Annotated[
        Path | None, typer.Option("--server-certificate", help="The server certificate to trust")
    ] = None,
    save_server_certificate: Annotated[
        Path | None,
        typer.Option(
            "--save-server-certificate",
            help="Fetch the certificate the server presents, save it here and trust it",
        ),
    ] = None,
    certificate: Annotated[Path | None, typer.Option("--certificate")] = None,
    private_key: Annotated[Path | None, typer.Option("--private-key")] = None,
    username: Annotated[str | None, typer.Option("--username")] = None,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="Environment variable with the password")
    ] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="File with the password")
    ] = None,
    timeout_s: Annotated[float, typer.Option("--timeout")] = 10.0,
    namespace_index: Annotated[
        bool,
        typer.Option(
            "--namespace-index",
            help="Write node ids with the namespace's index (ns=2;…) instead of its URI (nsu=…)",
        ),
    ] = False,
) -> None:
    """Walk an OPC UA server's address space and write a tag configuration for its variables."""
    from clearwell.settings import get_settings

    data_dir = Path(get_settings().data_dir) if _has_settings() else Path("var")
    text, count = asyncio.run(
        _browse(
            endpoint,
            name,
            site_code,
            site_name,
            security_policy,
            security_mode,
            server_certificate,
            save_server_certificate,
            certificate,
            private_key,
            username,
            password_env,
            password_file,
            timeout_s,
            data_dir,
            by_uri=not namespace_index,
        )
    )
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{out}: {count} tags from {endpoint}", err=True)


def _has_settings() -> bool:
    from clearwell.errors import ConfigError
    from clearwell.settings import get_settings

    try:
        get_settings()
    except ConfigError:
        return False
    return True


async def _browse(
    endpoint: str,
    name: str,
    site_code: str,
    site_name: str,
    security_policy: str,
    security_mode: str | None,
    server_certificate: Path | None,
    save_server_certificate: Path | None,
    certificate: Path | None,
    private_key: Path | None,
    username: str | None,
    password_env: str | None,
    password_file: Path | None,
    timeout_s: float,
    data_dir: Path,
    *,
    by_uri: bool = True,
) -> tuple[str, int]:
    import os

    import yaml
    from pydantic import ValidationError

    from clearwell.errors import ConfigError
    from ingest.lognoise import lower_expected_noise
    from ingest.opcua.browse import browse_variables, server_certificate_of, site_document
    from ingest.opcua.security import credentials, thumbprint
    from ingest.opcua.session import close_session, open_session
    from sitefile.models import OpcuaServer

    lower_expected_noise()

    def absolute(p: Path | None) -> str | None:
        return str(p.resolve()) if p is not None else None

    if save_server_certificate is not None:
        mode = security_mode or "SignAndEncrypt"
        der = await server_certificate_of(endpoint, timeout_s, security_policy, mode)
        save_server_certificate.write_bytes(der)
        typer.echo(
            f"saved the server certificate (thumbprint {thumbprint(der)}) to"
            f" {save_server_certificate}",
            err=True,
        )
        server_certificate = save_server_certificate
    try:
        server = OpcuaServer.model_validate(
            {
                "name": name,
                "endpoint": endpoint,
                "security_policy": security_policy,
                "security_mode": security_mode,
                "server_certificate": absolute(server_certificate),
                "certificate": absolute(certificate),
                "private_key": absolute(private_key),
                "username": username,
                "password_env": password_env,
                "password_file": absolute(password_file),
                "timeout_s": timeout_s,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}:"
            f" {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"browse: {problems}") from None
    creds = credentials(server, data_dir, os.environ)
    client = await open_session(server, creds)
    try:
        variables = await browse_variables(client)
        namespaces = await client.get_namespace_array() if by_uri else None
    finally:
        await close_session(client)
    text = site_document(server, site_code, site_name, variables, namespaces)
    return text, len(yaml.safe_load(text)["tags"] or [])
