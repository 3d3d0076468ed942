"""Which project each run of a request goes to; projects are made on first sight."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from runs.ingest import store
from runs.ingest.addresses import Address, agent_project_ids, find_agent_project
from runs.ingest.addresses import project_name as agent_project_name
from runs.ingest.normalize import InvalidField
from runs.models import Project

DEFAULT_PROJECT = "default"

# guard(name, id) -> an error message to refuse a run aimed at that project.
ProjectGuard = Callable[[str | None, uuid.UUID | None], str | None]


class Forbidden(InvalidField):
    """The caller may not write this item (403), though it may be valid."""


class ProjectResolver:
    """Maps each run to a project id.

    ``session_id`` wins over ``session_name``, which wins over an agent
    ``address`` (as in the SDK, a project named beside an address addresses
    the run); a run naming none goes to the default project.
    """

    def __init__(self, default_project: str | None) -> None:
        self.default = default_project or DEFAULT_PROJECT
        self.by_name: dict[str, uuid.UUID | None] = {}
        self.by_id: dict[uuid.UUID, str | None] = {}
        self.by_address: dict[Address, uuid.UUID | None] = {}
        # The stored project of an address, read once for a scoped key's guard.
        self._guard_names: dict[Address, tuple[str, uuid.UUID | None]] = {}

    def assign(
        self,
        row: dict[str, Any],
        guard: ProjectGuard | None,
        *,
        lazy_default: bool = False,
    ) -> None:
        """Note the row's target project; ``lazy_default`` waits to need it."""
        session_id = row.pop("session_id", None)
        name = row.pop("session_name", None)
        address = row.pop("address", None)
        if session_id is not None:
            row["_project"] = ("id", session_id, name)
            self.by_id.setdefault(session_id, name)
        elif name:
            row["_project"] = ("name", name)
            self.by_name.setdefault(name, None)
        elif address is not None:
            row["_project"] = ("agent", address)
            self.by_address.setdefault(address, None)
        elif row.get("project_id") is None:
            row["_project"] = ("name", self.default)
            if not lazy_default:
                self.by_name.setdefault(self.default, None)
        if guard is not None:
            target = row.get("_project")
            if target is None:
                message = guard(None, row.get("project_id"))
            elif target[0] == "id":
                message = guard(target[2], target[1])
            elif target[0] == "agent":
                message = guard(*self._guard_target(target[1]))
            else:
                message = guard(target[1], None)
            if message:
                raise Forbidden("session_name", message)

    def _guard_target(self, address: Address) -> tuple[str, uuid.UUID | None]:
        if address not in self._guard_names:
            project = find_agent_project(address)
            self._guard_names[address] = (
                (project.name, project.id)
                if project
                else (agent_project_name(address), None)
            )
        return self._guard_names[address]

    def resolve(self) -> None:
        """Look the projects up (one query) and create the missing ones."""
        missing = {a for a, pid in self.by_address.items() if pid is None}
        if missing:
            self.by_address.update(agent_project_ids(missing))
        if self.by_id:
            known = set(
                Project.objects.filter(id__in=self.by_id).values_list("id", flat=True)
            )
            for pid, name in self.by_id.items():
                if pid not in known:
                    taken = name and Project.objects.filter(name=name).exists()
                    Project.objects.get_or_create(
                        id=pid,
                        defaults={"name": str(pid) if not name or taken else name},
                    )
        if self.by_name:
            found = store.project_ids(self.by_name)
            missing = [name for name in self.by_name if name not in found]
            if missing:
                # Concurrent requests may create the same name: the loser's
                # insert is ignored and it reads the winner's row.
                Project.objects.bulk_create(
                    [Project(name=name) for name in missing], ignore_conflicts=True
                )
                found.update(store.project_ids(missing))
            self.by_name.update(found)

    def is_lazy(self, row: dict[str, Any]) -> bool:
        target = row.get("_project")
        return (
            target is not None
            and target[0] == "name"
            and (self.by_name.get(target[1]) is None)
        )

    def id_for(self, row: dict[str, Any]) -> uuid.UUID | None:
        target = row.pop("_project", None)
        if target is None:
            return row.get("project_id")
        if target[0] == "id":
            return target[1]
        if target[0] == "agent":
            if self.by_address.get(target[1]) is None:
                self.resolve()
            return self.by_address[target[1]]
        if self.by_name.get(target[1]) is None:
            self.by_name[target[1]] = None
            self.resolve()
        return self.by_name[target[1]]

    def names(self) -> set[str]:
        return set(self.by_name)
