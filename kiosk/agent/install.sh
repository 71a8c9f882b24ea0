#!/bin/sh
# Install the Sésame reader agent on a Debian 12 terminal (run as root, from a copy of the
# repository or of its kiosk/ folder):
#
#   sudo sh kiosk/agent/install.sh https://sesame.example.fr rdr_xxxxxxxx_yyyy… [gate|desk|kiosk]
#
# Creates the sesame-agent user, /opt/sesame-agent (its own virtualenv with the agent's pinned
# requirements only), /etc/sesame-agent/agent.toml and token, pins the snapshot signing key,
# installs and starts the systemd unit. Running it again upgrades the code and keeps the
# configuration. See docs/kiosk-agent.md.
set -eu

SERVER_URL=${1:?"usage: install.sh SERVER_URL READER_TOKEN [gate|desk|kiosk]"}
TOKEN=${2:?"usage: install.sh SERVER_URL READER_TOKEN [gate|desk|kiosk]"}
MODE=${3:-gate}
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=/opt/sesame-agent
CONFIG=/etc/sesame-agent

case "$MODE" in gate|desk|kiosk) ;; *) echo "mode must be gate, desk or kiosk" >&2; exit 2 ;; esac

# System packages: Python, venv, and libusb for USB readers (nfcpy opens them through it).
apt-get install -y --no-install-recommends python3 python3-venv libusb-1.0-0

id sesame-agent >/dev/null 2>&1 || useradd --system --home-dir /var/lib/sesame-agent \
    --shell /usr/sbin/nologin --groups plugdev sesame-agent

# The code: the agent package and the SUN library it shares with the server (nothing else).
install -d -m 0755 "$PREFIX" "$PREFIX/kiosk" "$PREFIX/docs"
rm -rf "$PREFIX/kiosk/agent" "$PREFIX/ntag424"
cp -r "$SOURCE/kiosk/agent" "$PREFIX/kiosk/agent"
cp -r "$SOURCE/ntag424" "$PREFIX/ntag424"
printf '' > "$PREFIX/kiosk/__init__.py"
cp "$SOURCE/docs/kiosk-agent.md" "$PREFIX/docs/" 2>/dev/null || true
python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet --require-virtualenv -r "$PREFIX/kiosk/agent/requirements.txt"

# USB readers: members of plugdev may open them (the agent never runs as root).
cat > /etc/udev/rules.d/60-sesame-nfc.rules <<'RULES'
SUBSYSTEM=="usb", ACTION=="add", ATTRS{idVendor}=="072f", MODE="0660", GROUP="plugdev"
SUBSYSTEM=="usb", ACTION=="add", ATTRS{idVendor}=="054c", MODE="0660", GROUP="plugdev"
SUBSYSTEM=="usb", ACTION=="add", ATTRS{idVendor}=="04e6", MODE="0660", GROUP="plugdev"
RULES
udevadm control --reload-rules 2>/dev/null || true

# Configuration: kept when it exists (re-running the script upgrades the code only).
install -d -m 0750 -g sesame-agent "$CONFIG"
if [ ! -f "$CONFIG/agent.toml" ]; then
    sed -e "s|https://sesame.example.fr|$SERVER_URL|" -e "s|^mode = \"gate\"|mode = \"$MODE\"|" \
        "$PREFIX/kiosk/agent/agent.toml.example" > "$CONFIG/agent.toml"
    chmod 0640 "$CONFIG/agent.toml"
    chgrp sesame-agent "$CONFIG/agent.toml"
fi
umask 077
printf '%s\n' "$TOKEN" > "$CONFIG/token"
chgrp sesame-agent "$CONFIG/token"
chmod 0640 "$CONFIG/token"

install -d -m 0700 -o sesame-agent -g sesame-agent /var/lib/sesame-agent
# Pin the snapshot signing key now, over TLS, rather than on first use (gates and desks).
if [ "$MODE" != kiosk ]; then
    (cd "$PREFIX" && runuser -u sesame-agent -- "$PREFIX/venv/bin/python" -m kiosk.agent \
        --config "$CONFIG/agent.toml" --pin-key) || echo "warning: key not pinned yet" >&2
fi

install -m 0644 "$PREFIX/kiosk/agent/sesame-agent.service" /etc/systemd/system/sesame-agent.service
systemctl daemon-reload
systemctl enable --now sesame-agent
systemctl restart sesame-agent
echo "Sésame agent installed: journalctl -u sesame-agent -f -o cat"
