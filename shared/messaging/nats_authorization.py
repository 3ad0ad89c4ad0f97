"""The broker's per-user permissions, expanded from nats_permissions.json.

The JSON file is the one reviewable table (who may publish, subscribe, read which
consumer); this module only expands its placeholders and renders the nats-server
`authorization { users = [...] }` block, either with literal public keys (the embedded
server of `fpb up`) or with `$FPB_NKEY_<USER>` variables that the deployment fills from
its secrets (deploy/nats/authorization.conf, rendered by `fpb contracts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.contracts.townships import TOWNSHIPS

PERMISSIONS_FILE = Path(__file__).with_name("nats_permissions.json")


@dataclass(frozen=True)
class UserPermissions:
    user: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    publish_deny: tuple[str, ...] = ()
    consumers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # stream -> durable names it reads
    source: str | None = None  # publishers only: the envelope `source` it publishes as

    def server_entry(self, nkey: str) -> dict[str, Any]:
        publish: dict[str, Any] = {"allow": list(self.publish)}
        if self.publish_deny:
            publish["deny"] = list(self.publish_deny)
        return {"nkey": nkey, "permissions": {"publish": publish, "subscribe": {"allow": list(self.subscribe)}}}


def inbox_prefix(user: str) -> str:
    """Each user's own reply inbox prefix: replies (PubAcks, pulled messages, API answers)
    go to _INBOX_<user>.…, which only that user may subscribe to."""
    return f"_INBOX_{user}"


def _fill(patterns: list[str], **values: str) -> list[str]:
    return [pattern.format(**values) for pattern in patterns]


def _consumer_rights(consumers: dict[str, tuple[str, ...]]) -> list[str]:
    rights = []
    for stream, names in consumers.items():
        for name in names:
            rights += [f"$JS.API.CONSUMER.INFO.{stream}.{name}", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}", f"$JS.ACK.{stream}.{name}.>"]
    return rights


def _reader_rights(streams: list[str]) -> list[str]:
    """Short-lived consumers of its own on whole streams it may read (replays, ordered consumers)."""
    rights = []
    for stream in streams:
        rights += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.*",
            f"$JS.API.CONSUMER.DELETE.{stream}.*",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
        ]
    return rights


def _protected_denials(user: str, streams: list[str], owners: dict[tuple[str, str], str]) -> list[str]:
    """A reader of a whole stream must not replace or delete any named consumer on it (a
    durable keeps its reader's position, and only the provisioner manages the platform's,
    its own included), nor pull from another user's."""
    denials = []
    for (stream, name), owner in sorted(owners.items()):
        if stream in streams:
            denials += [
                f"$JS.API.CONSUMER.CREATE.{stream}.{name}",
                f"$JS.API.CONSUMER.CREATE.{stream}.{name}.>",
                f"$JS.API.CONSUMER.DELETE.{stream}.{name}",
            ]
            if owner != user:
                denials.append(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}")
    return denials


@lru_cache(maxsize=1)
def load_table(path: Path = PERMISSIONS_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _expanded_users(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Every user of the table with placeholders filled: name, publish, subscribe,
    consumers, reads_streams, source."""
    users: list[dict[str, Any]] = []
    template = table["publisher"]
    for name_pattern, spec in table["publishers"].items():
        codes = sorted(TOWNSHIPS) if spec.get("for_each") == "township_code" else [""]
        for code in codes:
            user = name_pattern.format(code=code)
            values = {"user": user, "source": spec["source"], "code": code}
            users.append({
                "user": user,
                "source": spec["source"],
                "publish": _fill(spec["subjects"], **values) + _fill(template["publish"], **values),
                "subscribe": _fill(template["subscribe"], **values),
                "consumers": {stream: tuple(_fill(names, **values)) for stream, names in template["consumers"].items()},
                "reads_streams": [],
            })
    agency = table["agency_tool"]
    for name in agency["for_each"]:
        user = agency["user"].format(agency=name)
        values = {"user": user, "agency": name}
        users.append({
            "user": user,
            "publish": _fill(agency["publish"], **values),
            "subscribe": _fill(agency["subscribe"], **values),
            "consumers": {stream: tuple(_fill(names, **values)) for stream, names in agency["consumers"].items()},
            "reads_streams": [],
        })
    for user, spec in table["users"].items():
        users.append({
            "user": user,
            "publish": list(spec.get("publish", [])),
            "subscribe": list(spec.get("subscribe", [])),
            "consumers": {stream: tuple(names) for stream, names in spec.get("consumers", {}).items()},
            "reads_streams": list(spec.get("reads_streams", [])),
        })
    return users


@lru_cache(maxsize=1)
def permissions() -> dict[str, UserPermissions]:
    """Every NATS user of the platform and what the broker lets it do."""
    table = load_table()
    users = _expanded_users(table)
    owners = {(stream, name): u["user"] for u in users for stream, names in u["consumers"].items() for name in names}
    every = table["every_user"]
    result: dict[str, UserPermissions] = {}
    for u in users:
        values = {"user": u["user"]}
        publish = _fill(every["publish"], **values) + u["publish"] + _consumer_rights(u["consumers"]) + _reader_rights(u["reads_streams"])
        result[u["user"]] = UserPermissions(
            user=u["user"],
            publish=tuple(dict.fromkeys(publish)),
            subscribe=tuple(dict.fromkeys(_fill(every["subscribe"], **values) + u["subscribe"])),
            publish_deny=tuple(_protected_denials(u["user"], u["reads_streams"], owners)),
            consumers=u["consumers"],
            source=u.get("source"),
        )
    return result


def user_names() -> tuple[str, ...]:
    return tuple(permissions())


def nkey_variable(user: str) -> str:
    """The config variable holding a user's public key in the production files."""
    return "FPB_NKEY_" + user.upper().replace("-", "_")


def render_authorization(public_keys: dict[str, str] | None = None) -> str:
    """The `authorization` block for nats-server. With `public_keys`, literal keys (every
    user must have one); without, `$FPB_NKEY_<USER>` variables resolved from the server's
    environment (nats-server refuses to start while one is undefined)."""
    lines = [
        "# Generated from shared/messaging/nats_permissions.json by shared/messaging/nats_authorization.py.",
        "# Only public keys: the seeds stay with their clients. Anything not allowed is denied.",
        "authorization {",
        "  users = [",
    ]
    for user, grant in permissions().items():
        if public_keys is None:
            nkey = "$" + nkey_variable(user)
        else:
            nkey = json.dumps(public_keys[user])
        entry = grant.server_entry("NKEY")
        body = json.dumps(entry["permissions"], indent=None)
        lines.append(f"    # {user}")
        lines.append(f"    {{nkey: {nkey}, permissions: {body}}}")
    lines += ["  ]", "}", ""]
    return "\n".join(lines)
