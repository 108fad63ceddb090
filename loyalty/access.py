"""Who may do what: three roles, a role map from the app's secrets, and the check the writing functions make.

Roles, each including the ones before it: a viewer browses, an uploader also imports files, saves
column mappings and undoes the batches they uploaded themselves, an admin also changes settings,
loads the demo data and undoes any batch.

The check lives in the library functions that write (`import_files`, `undo_batch`, `save_setting`,
`save_mapping`, `load_demo`): each takes the acting `User` as a required keyword argument `user`, so
no caller can write without saying who it acts for. The app passes the signed-in user (or
`LOCAL_USER`, an admin, in local single-user mode); the command line passes `operator()`, the OS
account as an admin, because whoever runs it has the database file in their hands anyway.

The role map (in the app: the `[loyalty.roles]` table of `.streamlit/secrets.toml`) lists, per
role, exact e-mail addresses and whole domains written as "@example.com"; `default` is the role of a
signed-in user the lists do not name (viewer when absent):

    [loyalty.roles]
    default = "viewer"
    admin = ["ceo@example.com"]
    uploader = ["@example.com", "ops@partner.example"]

An exact address beats its domain; addresses and domains compare without regard to case; a domain
matches only itself, not its subdomains. An entry listed under two roles is refused as ambiguous.
"""
from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass

VIEWER, UPLOADER, ADMIN = "viewer", "uploader", "admin"
ROLES = (VIEWER, UPLOADER, ADMIN)  # each role may do everything the ones before it may


class PermissionDenied(PermissionError):
    """The acting user's role does not allow the operation; the message is one sentence saying so."""


@dataclass(frozen=True)
class User:
    email: str  # the signed-in address; "local user" in single-user mode; the OS account on the CLI
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role '{self.role}' (known: {', '.join(ROLES)}).")

    def has(self, role: str) -> bool:
        """Whether this user's role is `role` or above."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def describe(self) -> str:
        """'x@y as a viewer', for sentences."""
        return f"{self.email} as {'an' if self.role[0] in 'aeiou' else 'a'} {self.role}"


LOCAL_USER = User("local user", ADMIN)


def operator() -> User:
    """The command line's user: the OS account, as an admin."""
    return User(getpass.getuser(), ADMIN)


def refusal(user: User, role: str, action: str) -> str | None:
    """Why `user` may not do `action` (which needs `role`), as one sentence; None when they may."""
    if user.has(role):
        return None
    return f"{action} needs the {role} role; you are signed in as {user.describe()}."


def undo_refusal(user: User, batch_id: int, uploaded_by: str | None) -> str | None:
    """Why `user` may not undo the batch: uploaders may undo the batches they uploaded (the address
    compared without regard to case, as in the role map), admins any."""
    if not user.has(UPLOADER) or user.has(ADMIN):
        return refusal(user, UPLOADER, "Undoing a batch")
    if (uploaded_by or "").lower() != user.email.lower():
        return (f"Batch {batch_id} was uploaded by {uploaded_by or 'someone else'}: undoing another person's batch "
                f"needs the admin role; you are signed in as {user.describe()}.")
    return None


def require(user: User, role: str, action: str) -> None:
    """Raise PermissionDenied unless `user` has `role`; `action` starts the sentence ("Importing")."""
    message = refusal(user, role, action)
    if message:
        raise PermissionDenied(message)


def require_undo(user: User, batch_id: int, uploaded_by: str | None) -> None:
    message = undo_refusal(user, batch_id, uploaded_by)
    if message:
        raise PermissionDenied(message)


@dataclass(frozen=True)
class RoleMap:
    by_email: dict[str, str]
    by_domain: dict[str, str]
    default: str = VIEWER

    @classmethod
    def from_config(cls, config: Mapping | None) -> RoleMap:
        """Read {"default": role, role: [address or "@domain", …], …}; a ValueError says what to fix."""
        config = dict(config or {})
        default = config.pop("default", VIEWER)
        unknown = [name for name in [default, *config] if name not in ROLES]
        if unknown:
            raise ValueError(f"The role map names an unknown role '{unknown[0]}' (known: {', '.join(ROLES)}).")
        owners: dict[str, str] = {}
        for role, entries in config.items():
            if isinstance(entries, str) or not all(isinstance(e, str) for e in entries):
                raise ValueError(f"The role map's {role} entry must be a list of addresses or \"@domain\" strings.")
            for entry in entries:
                key = entry.strip().lower()
                if owners.get(key, role) != role:
                    raise ValueError(f"The role map lists {entry} as both {owners[key]} and {role}: keep one.")
                owners[key] = role
        return cls(by_email={k: r for k, r in owners.items() if not k.startswith("@")},
                   by_domain={k: r for k, r in owners.items() if k.startswith("@")}, default=default)

    def role_of(self, email: str) -> str:
        """The role of a signed-in address: its exact entry, else its domain's, else the default."""
        address = email.strip().lower()
        if address in self.by_email:
            return self.by_email[address]
        return self.by_domain.get("@" + address.rpartition("@")[2], self.default)

    def user(self, email: str) -> User:
        return User(email, self.role_of(email))
