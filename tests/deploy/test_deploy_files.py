"""What deploy/ gives a Debian 12 server agrees with the code: the environment file names
every setting Sésame reads, every periodic command has its timer, nginx takes the uploads
Sésame takes and passes the client's address, the units and compose.yaml parse."""

import configparser
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVER_CODE = ["portal", "kiosk", "card", "services", "payments", "documents_vault", "identity"]
ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|env_bool|env_list|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)

# Commands a person runs by hand, never on a schedule: {name: why}.
NOT_PERIODIC = {
    "simulate_tap": "the demo's `make tap`",
    "kiosk_demo": "the demo's `make kiosk-demo`",
    "demo_totp": "the demo's `make totp`",
    "load_demo": "the demo's data",
    "rotate_vault_key": "a key rotation, decided by the town (docs/vault.md)",
    "restore": "a restore, by hand (docs/backup.md)",
    "create_first_administrator": "once, at installation (docs/deployment.md)",
    "db_worker": "the task worker itself, a service (sesame-worker@.service)",
    "import_streets": "an import of the Base Adresse Nationale's file, when the town updates it",
    "import_school_calendar": "the ministry's school calendar, imported once a school year",
}


def environment_reads() -> set[str]:
    """Every variable the server's code and its gunicorn configuration read (the kiosk agent
    runs on terminals, with a configuration file of its own)."""
    files = [DEPLOY / "gunicorn.conf.py"]
    for package in SERVER_CODE:
        files += [p for p in (ROOT / package).rglob("*.py") if "agent" not in p.parts]
    return {name for path in files for name in ENV_READ.findall(path.read_text())}


def example_names() -> set[str]:
    text = (DEPLOY / "sesame.env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))


def test_the_environment_file_names_every_setting_read_from_the_environment():
    read = environment_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "SESAME_METRICS_TOKEN", "SESAME_BIND"} <= read
    missing = read - example_names()
    assert not missing, (
        f"Read from the environment but not in deploy/sesame.env.example: {sorted(missing)}. "
        "Add each one there (commented out when its default suits production) and to the "
        "Configuration table of README.md."
    )


def test_the_environment_file_names_nothing_sesame_does_not_read():
    read_elsewhere = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PROMETHEUS_MULTIPROC_DIR"}
    assert example_names() - environment_reads() - read_elsewhere == set()


def test_every_setting_read_is_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert sorted(n for n in environment_reads() if f"`{n}`" not in table) == []


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(path)
    return parser


def timers() -> dict[str, configparser.ConfigParser]:
    return {p.name: unit(p) for p in sorted((DEPLOY / "systemd").glob("*.timer"))}


def scheduled_commands() -> set[str]:
    commands = set()
    for timer in timers().values():
        started = timer["Timer"]["Unit"]
        match = re.fullmatch(r"sesame-manage@(\w+)\.service", started)
        assert match, f"{started}: timers start sesame-manage@<command>.service"
        commands.add(match.group(1))
    return commands


def project_commands() -> set[str]:
    return {name for name, app in get_commands().items() if app.split(".")[0] in SERVER_CODE}


def test_every_periodic_command_has_a_timer():
    unscheduled = project_commands() - set(NOT_PERIODIC) - scheduled_commands()
    assert not unscheduled, (
        f"Management commands without a systemd timer: {sorted(unscheduled)}. Add "
        "deploy/systemd/sesame-<name>.timer (Unit=sesame-manage@<command>.service) and its line "
        "in docs/deployment.md, or list the command in NOT_PERIODIC with why."
    )
    assert {"expire_cards", "payments_sweep", "vault_sweep", "backup"} <= scheduled_commands()


def test_timers_are_complete_units():
    for name, timer in timers().items():
        assert timer["Timer"]["OnCalendar"], name
        assert timer["Timer"]["Persistent"] == "true", name
        assert timer["Install"]["WantedBy"] == "timers.target", name


@pytest.mark.parametrize(
    "name", ["sesame-web.service", "sesame-worker@.service", "sesame-manage@.service"]
)
def test_services_run_as_sesame_with_the_environment_file(name):
    service = unit(DEPLOY / "systemd" / name)["Service"]
    assert service["User"] == "sesame"
    assert service["EnvironmentFile"] == "/etc/sesame/sesame.env"
    assert service["WorkingDirectory"] == "/opt/sesame"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/sesame"


def test_gunicorn_runs_several_workers_and_adds_up_their_metrics():
    web = unit(DEPLOY / "systemd" / "sesame-web.service")["Service"]
    assert "gunicorn -c deploy/gunicorn.conf.py" in web["ExecStart"]
    assert "PROMETHEUS_MULTIPROC_DIR=" in web["Environment"]
    config: dict = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), config)  # noqa: S102
    assert config["workers"] >= 2
    assert config["accesslog"] is None  # query strings would reach the logs
    assert callable(config["child_exit"])
    assert callable(config["on_starting"])


def nginx_site() -> str:
    return (DEPLOY / "nginx" / "sesame.conf").read_text() + (
        DEPLOY / "nginx" / "sesame-proxy.conf"
    ).read_text()


def test_nginx_takes_the_uploads_sesame_takes_and_no_more():
    (size,) = re.findall(r"client_max_body_size (\d+)m;", nginx_site())
    assert int(size) * 1024 * 1024 == settings.SESAME_MAX_REQUEST_BYTES
    example = (DEPLOY / "sesame.env.example").read_text()
    assert f"SESAME_MAX_REQUEST_BYTES={settings.SESAME_MAX_REQUEST_BYTES}\n" in example


def test_nginx_passes_the_client_address_scheme_and_request_id_and_guards_the_metrics():
    site = nginx_site()
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "X-Request-ID"):
        assert f"proxy_set_header {header}" in site
    metrics = site.split("location = /metrics", 1)[1].split("}", 1)[0]
    assert "deny all;" in metrics
    (read_timeout,) = re.findall(r"proxy_read_timeout (\d+)s;", site)
    assert int(read_timeout) > 30  # gunicorn's worker timeout answers first


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="needs Debian's nginx")
def test_nginx_accepts_the_site(tmp_path):
    """`nginx -t` on the site as installed, with a throw-away certificate."""
    subprocess.run(  # noqa: S603
        [
            "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=sesame.example.fr",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site = (
        (DEPLOY / "nginx" / "sesame.conf")
        .read_text()
        .replace("/etc/nginx/snippets/sesame-proxy.conf", str(DEPLOY / "nginx/sesame-proxy.conf"))
        .replace(
            "/etc/letsencrypt/live/sesame.example.fr/fullchain.pem", str(tmp_path / "cert.pem")
        )
        .replace("/etc/letsencrypt/live/sesame.example.fr/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(  # noqa: S603
        ["/usr/sbin/nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_compose_parses_and_uses_the_same_settings():
    """No Docker engine here: compose.yaml is read, not run."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "migrate", "web", "worker"} <= set(services)
    for name in ("migrate", "web", "worker"):
        assert services[name]["env_file"] == "/etc/sesame/sesame.env"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["web"]["command"][-2:] == ["-c", "deploy/gunicorn.conf.py"]
    assert services["worker"]["command"][-3:-1] == ["manage.py", "db_worker"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    environment = services["web"]["environment"]
    assert set(environment) <= environment_reads() | {"PROMETHEUS_MULTIPROC_DIR"}
    assert (
        environment["SESAME_TRUSTED_PROXIES"]
        == (compose["networks"]["default"]["ipam"]["config"][0]["gateway"])
    )
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # only the host's nginx


def test_postgresql_and_redis_setups_are_there():
    sql = (DEPLOY / "postgresql" / "setup.sql").read_text()
    assert "NOSUPERUSER" in sql
    assert "OWNER sesame" in sql
    redis = (DEPLOY / "redis" / "sesame.conf").read_text()
    assert "bind 127.0.0.1" in redis
    assert "maxmemory-policy allkeys-lru" in redis
    rotate = (DEPLOY / "logrotate" / "sesame").read_text()
    assert "/var/log/sesame/*.log" in rotate
    assert "copytruncate" in rotate
