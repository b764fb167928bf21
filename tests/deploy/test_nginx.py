"""deploy/nginx/clearwell.conf in front of a real ``clearwell serve``: nginx terminates
TLS with the site's certificate and the app sees https. Where nginx is not installed
(it is not among the test tools), skipped saying so."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.core.test_tls import _self_signed
from tests.support.pg_cluster import free_port
from tests.support.serve import serve

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (Debian: apt-get install nginx-light)"
)
def test_nginx_terminates_tls_and_names_the_scheme(db_url, tmp_path):
    cert, key = _self_signed(tmp_path)
    https, http = free_port(), free_port()
    with serve(db_url) as base:
        app_port = base.rsplit(":", 1)[1]
        site = (REPO / "deploy" / "nginx" / "clearwell.conf").read_text()
        site = (
            site.replace("listen 80;", f"listen 127.0.0.1:{http};")
            .replace("listen [::]:80;", "")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
            .replace("listen [::]:443 ssl http2;", "")
            .replace("/etc/clearwell/tls/clearwell.crt", str(cert))
            .replace("/etc/clearwell/tls/clearwell.key", str(key))
            .replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
        )
        (tmp_path / "site.conf").write_text(site)
        (tmp_path / "nginx.conf").write_text(
            f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            "daemon off;\nevents {}\n"
            f"http {{\naccess_log off;\nclient_body_temp_path {tmp_path};\n"
            f"proxy_temp_path {tmp_path};\nfastcgi_temp_path {tmp_path};\n"
            f"uwsgi_temp_path {tmp_path};\nscgi_temp_path {tmp_path};\n"
            f"include {tmp_path}/site.conf;\n}}\n"
        )
        conf = ["-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        checked = subprocess.run([NGINX, "-t", *conf], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proxy = subprocess.Popen([NGINX, *conf])
        try:
            trust = ssl.create_default_context(cafile=str(cert))
            deadline = time.monotonic() + 10
            while True:
                try:
                    answer = httpx.get(f"https://127.0.0.1:{https}/healthz/", verify=trust)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert answer.status_code == 307
            assert answer.headers["location"].startswith("https://")
            plain = httpx.get(f"http://127.0.0.1:{http}/healthz")
            assert plain.status_code == 301
            assert plain.headers["location"].startswith("https://")
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
