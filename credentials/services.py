"""Use cases of credentials: the only code that encrypts, decrypts or writes them."""

import json
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from credentials.models import Credential
from credentials.types import TYPES
from nodeflow import crypto


class InvalidCredential(ValueError):
    """The credential's name, type or data are not acceptable; `problems` maps fields to messages."""

    def __init__(self, problems):
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems.items()))
        self.problems = problems


class CredentialUnavailable(LookupError):
    """No credential of that id belongs to the user (missing and foreign look the same), or it cannot be read."""


@dataclass(frozen=True)
class ResolvedCredential:
    """A credential decrypted for one node run, inside a worker. Never store or log it."""

    id: str
    type: str
    data: dict
    version: str  # changes whenever the stored values change (keys caches of derived tokens)

    @property
    def secrets(self):
        """The values to mask wherever the run's data is stored."""
        return TYPES[self.type].secret_values(self.data)


def _check(type_, data):
    if type_ not in TYPES:
        raise InvalidCredential({"type": f"unknown type {type_!r} (types: {', '.join(TYPES)})"})
    problems = TYPES[type_].problems(data)
    if problems:
        raise InvalidCredential({f"data.{name}" if name != "data" else "data": message
                                 for name, message in problems.items()})


def _fields_set(type_, data):
    spec = TYPES[type_]
    names = [name for name in data if data[name] != ""]
    order = {name: index for index, name in enumerate(spec.fields)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _save(credential):
    try:
        with transaction.atomic():
            credential.save()
    except IntegrityError:
        raise InvalidCredential({"name": f"you already have a credential named {credential.name!r}"}) from None
    return credential


def create_credential(owner, name, type_, data):
    """A new credential of `owner`, its data encrypted."""
    _check(type_, data)
    credential = Credential(owner=owner, name=name, type=type_, ciphertext=crypto.encrypt(json.dumps(data)),
                            fields_set=_fields_set(type_, data))
    return _save(credential)


def update_credential(credential, *, name=None, type_=None, data=None):
    """Rename, and/or change values. `data` of the same type is merged into the stored fields
    (a null value removes an optional field); a new type needs its whole data."""
    if name is not None:
        credential.name = name
    if type_ is not None and type_ != credential.type:
        if data is None:
            raise InvalidCredential({"data": "changing the type needs the new type's data"})
        credential.type, merged = type_, {}
    else:
        merged = decrypted_data(credential) if data is not None else None
    if data is not None:
        for key, value in data.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        _check(credential.type, merged)
        credential.ciphertext = crypto.encrypt(json.dumps(merged))
        credential.fields_set = _fields_set(credential.type, merged)
    return _save(credential)


def delete_credential(credential):
    credential.delete()


def decrypted_data(credential):
    try:
        return json.loads(crypto.decrypt(credential.ciphertext))
    except crypto.DecryptionError as exc:
        raise CredentialUnavailable(
            f"credential {credential.id} cannot be decrypted: {exc}; was NODEFLOW_SECRET_KEYS changed?"
        ) from None


def resolve_credential(owner_id, credential_id):
    """The decrypted credential `credential_id` of user `owner_id`, for a node run in a worker.

    Another user's credential is as missing as one that does not exist."""
    credential_id = str(credential_id)
    try:
        key = uuid.UUID(credential_id)
    except ValueError:
        raise CredentialUnavailable(f"no credential {credential_id!r}: credential ids are UUIDs") from None
    credential = Credential.objects.filter(pk=key, owner_id=owner_id).first() if owner_id is not None else None
    if credential is None:
        raise CredentialUnavailable(f"no credential {credential_id!r}: it does not exist or is not yours")
    data = decrypted_data(credential)
    return ResolvedCredential(id=str(credential.pk), type=credential.type, data=data,
                              version=credential.updated_at.isoformat())


def credential_for_node(call, credential_id):
    """For node types (call: the NodeCall): the execution owner's credential, decrypted, its secret
    values registered in `call.secrets` so the runtime masks them wherever the run is stored.

    Raises CredentialUnavailable (missing, another user's, or undecryptable)."""
    credential = resolve_credential(call.owner_id, credential_id)
    call.secrets.update(credential.secrets)
    return credential


def rotate_credentials():
    """Encrypt every stored credential again with the first of NODEFLOW_SECRET_KEYS; returns how many.

    After putting a new key first, run this, then remove the old key."""
    count = 0
    for pk in Credential.objects.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            credential = Credential.objects.select_for_update().get(pk=pk)
            try:
                credential.ciphertext = crypto.rotate(credential.ciphertext)
            except crypto.DecryptionError as exc:
                raise CredentialUnavailable(f"credential {pk} cannot be decrypted: {exc}") from None
            Credential.objects.filter(pk=pk).update(ciphertext=credential.ciphertext)
        count += 1
    return count
