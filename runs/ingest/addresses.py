"""Agent addresses: one project per (agent id, environment).

The LangSmith SDK sends a run traced with ``agent_address(id, environment)``
as ``address: "lrn:agents/<id>/environments/<environment>"`` instead of a
project name; OTLP exports carry the same pair as ``Langsmith-Agent-Id`` and
``Langsmith-Agent-Environment`` headers. Both become the same wire value here,
checked as the SDK checks it, so every write path lands in the same project.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from runs.ingest.normalize import InvalidField
from runs.models import Project

ENVIRONMENTS = ("local", "development", "staging", "production")
_AGENT_ID = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LRN = re.compile(r"lrn:agents/([^/]{1,63})/environments/([^/]{1,16})")

Address = tuple[str, str]


def check_address(agent_id: Any, environment: Any) -> Address:
    """The (id, lower-case environment) pair, or InvalidField saying why not."""
    if not isinstance(agent_id, str) or not _AGENT_ID.fullmatch(agent_id):
        raise InvalidField(
            "address",
            "the agent id must be 1 to 63 lowercase letters, digits or hyphens, "
            "starting with a letter and ending with a letter or digit",
        )
    env = environment.lower() if isinstance(environment, str) else None
    if env not in ENVIRONMENTS:
        raise InvalidField(
            "address", f"the environment must be one of {', '.join(ENVIRONMENTS)}"
        )
    return agent_id, env


def parse_lrn(value: Any, key: str = "address") -> Address:
    """Check a run's ``address`` field (its LRN string)."""
    match = _LRN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidField(
            key, "expected an agent address lrn:agents/<id>/environments/<env>"
        )
    return check_address(*match.groups())


def to_lrn(address: Address) -> str:
    return f"lrn:agents/{address[0]}/environments/{address[1]}"


def project_name(address: Address) -> str:
    return f"{address[0]}/{address[1]}"


def find_agent_project(address: Address) -> Project | None:
    return Project.objects.filter(
        agent_id=address[0], agent_environment=address[1]
    ).first()


def agent_project_ids(addresses: set[Address]) -> dict[Address, uuid.UUID]:
    """The project of each address, created on first sight (one query when known)."""
    found: dict[Address, uuid.UUID] = {}
    if not addresses:
        return found
    ids = {a[0] for a in addresses}
    for agent_id, env, pid in Project.objects.filter(agent_id__in=ids).values_list(
        "agent_id", "agent_environment", "id"
    ):
        if (agent_id, env) in addresses:
            found[(agent_id, env)] = pid
    for address in addresses - set(found):
        found[address] = _create(address).id
    return found


def _create(address: Address) -> Project:
    name = project_name(address)
    if Project.objects.filter(name=name).exists():
        # A plain project already has the name: the agent's gets a suffix.
        name = f"{name}-{uuid.uuid4().hex[:8]}"
    try:
        with transaction.atomic():
            return Project.objects.create(
                name=name, agent_id=address[0], agent_environment=address[1]
            )
    except IntegrityError:
        # A concurrent request created it first.
        project = find_agent_project(address)
        if project is None:
            raise
        return project
