"""Credentials over the API: write-only values, encrypted at rest, key rotation, the admin."""

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from credentials import services
from credentials.models import Credential
from nodeflow import crypto

pytestmark = pytest.mark.django_db

LIST = "/api/v1/credentials/"
SECRET = "s3cr3t-Value-7781"


def detail(credential_id):
    return f"{LIST}{credential_id}/"


def create(client, name="api", type_="bearer", data=None):
    body = {"name": name, "type": type_, "data": data if data is not None else {"token": SECRET}}
    return client.post(LIST, body, format="json")


EXAMPLES = [
    ("http_header", {"name": "X-API-Key", "value": SECRET}, ["name", "value"]),
    ("http_basic", {"username": "ada", "password": SECRET}, ["username", "password"]),
    ("bearer", {"token": SECRET}, ["token"]),
    ("oauth2_client_credentials",
     {"token_url": "https://auth.example.com/token", "client_id": "client-1", "client_secret": SECRET,
      "scope": "read"}, ["token_url", "client_id", "client_secret", "scope"]),
    ("generic", {"account": "acme", "api_secret": SECRET}, ["account", "api_secret"]),
]


@pytest.mark.parametrize("type_, data, fields", EXAMPLES)
def test_a_created_credential_answers_with_its_fields_but_never_its_values(alice_client, type_, data, fields):
    response = create(alice_client, type_=type_, data=data)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "type", "fields_set", "created_at", "updated_at"}
    assert body["type"] == type_ and body["name"] == "api"
    assert body["fields_set"] == fields
    assert SECRET not in response.content.decode()


def test_values_are_never_shown_by_list_or_retrieve(alice_client):
    credential_id = create(alice_client).json()["id"]

    listed = alice_client.get(LIST)
    one = alice_client.get(detail(credential_id))

    assert listed.status_code == 200 and one.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [credential_id]
    assert one.json()["fields_set"] == ["token"]
    for response in (listed, one):
        assert SECRET not in response.content.decode()
        assert "data" not in response.content.decode()


def test_values_are_encrypted_at_rest(alice_client):
    credential_id = create(alice_client).json()["id"]

    stored = Credential.objects.get(pk=credential_id)

    assert SECRET not in stored.ciphertext
    assert SECRET not in json.dumps(stored.fields_set)
    assert json.loads(crypto.decrypt(stored.ciphertext)) == {"token": SECRET}


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "type": "kerberos", "data": {}}, "type"),
    ({"name": "x", "type": "bearer", "data": {}}, "data.token"),
    ({"name": "x", "type": "bearer", "data": {"token": ""}}, "data.token"),
    ({"name": "x", "type": "bearer", "data": {"token": "t", "extra": "y"}}, "data.extra"),
    ({"name": "x", "type": "bearer", "data": {"token": 5}}, "data"),
    ({"name": "x", "type": "bearer", "data": {"token": ["a"]}}, "data"),
    ({"name": "x", "type": "bearer", "data": "token"}, "data"),
    ({"name": "x", "type": "bearer", "data": {"token": "a\r\nX-Injected: 1"}}, "data.token"),
    ({"name": "x", "type": "http_header", "data": {"name": "Bad Header", "value": "v"}}, "data.name"),
    ({"name": "x", "type": "http_basic", "data": {"username": "a:b", "password": "p"}}, "data.username"),
    ({"name": "x", "type": "oauth2_client_credentials",
      "data": {"token_url": "ftp://auth.example.com", "client_id": "c", "client_secret": "s"}}, "data.token_url"),
    ({"name": "x", "type": "generic", "data": {}}, "data"),
    ({"name": "x", "type": "generic", "data": {"1bad": "v"}}, "data.1bad"),
    ({"name": "x", "type": "bearer", "data": {"token": "t" * (16 * 1024 + 1)}}, "data"),
    ({"name": "", "type": "bearer", "data": {"token": "t"}}, "name"),
    ({"name": "x" * 201, "type": "bearer", "data": {"token": "t"}}, "name"),
    ({"type": "bearer", "data": {"token": "t"}}, "name"),
])
def test_invalid_credentials_are_a_400_naming_the_field(alice_client, body, field):
    response = alice_client.post(LIST, body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert any(key == field or key.startswith(f"{field}") for key in error["details"]), error
    assert not Credential.objects.exists()


def test_a_second_credential_with_the_same_name_is_a_400(alice_client, bob_client):
    create(alice_client, name="shared")

    again = create(alice_client, name="shared")
    bobs = create(bob_client, name="shared")

    assert again.status_code == 400 and "already have a credential named" in again.json()["error"]["message"]
    assert bobs.status_code == 201  # names are per user


def test_patch_renames_and_keeps_the_values(alice_client):
    credential_id = create(alice_client).json()["id"]

    response = alice_client.patch(detail(credential_id), {"name": "renamed"}, format="json")

    assert response.status_code == 200 and response.json()["name"] == "renamed"
    credential = Credential.objects.get(pk=credential_id)
    assert services.decrypted_data(credential) == {"token": SECRET}


def test_patch_data_changes_the_given_fields_and_null_removes_an_optional_one(alice_client):
    data = {"token_url": "https://auth.example.com/token", "client_id": "c1", "client_secret": "old", "scope": "read"}
    credential_id = create(alice_client, type_="oauth2_client_credentials", data=data).json()["id"]

    response = alice_client.patch(detail(credential_id), {"data": {"client_secret": "new", "scope": None}},
                                  format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["fields_set"] == ["token_url", "client_id", "client_secret"]
    assert services.decrypted_data(Credential.objects.get(pk=credential_id)) == {
        "token_url": "https://auth.example.com/token", "client_id": "c1", "client_secret": "new"}


def test_patch_cannot_remove_a_required_field(alice_client):
    credential_id = create(alice_client).json()["id"]

    response = alice_client.patch(detail(credential_id), {"data": {"token": None}}, format="json")

    assert response.status_code == 400
    assert services.decrypted_data(Credential.objects.get(pk=credential_id)) == {"token": SECRET}


def test_changing_the_type_needs_the_new_types_data(alice_client):
    credential_id = create(alice_client).json()["id"]

    without = alice_client.patch(detail(credential_id), {"type": "http_basic"}, format="json")
    with_data = alice_client.patch(detail(credential_id), {"type": "http_basic",
                                                           "data": {"username": "u", "password": "p"}}, format="json")

    assert without.status_code == 400
    assert with_data.status_code == 200 and with_data.json()["fields_set"] == ["username", "password"]


def test_put_is_not_offered(alice_client):
    credential_id = create(alice_client).json()["id"]

    response = alice_client.put(detail(credential_id), {"name": "x", "type": "bearer", "data": {"token": "t"}},
                                format="json")

    assert response.status_code == 405


def test_delete_removes_the_credential(alice_client):
    credential_id = create(alice_client).json()["id"]

    assert alice_client.delete(detail(credential_id)).status_code == 204
    assert alice_client.get(detail(credential_id)).status_code == 404
    assert not Credential.objects.exists()


def test_the_types_endpoint_lists_every_type_with_its_fields(alice_client):
    response = alice_client.get(f"{LIST}types/")

    assert response.status_code == 200
    types = {entry["type"]: entry for entry in response.json()}
    assert set(types) == {"http_header", "http_basic", "bearer", "oauth2_client_credentials", "generic"}
    token = next(field for field in types["bearer"]["fields"] if field["name"] == "token")
    assert token == {"name": "token", "required": True, "secret": True}


def test_credentials_need_authentication(client, db):
    assert client.get(LIST).status_code == 401
    assert client.post(LIST, {"name": "x", "type": "bearer", "data": {"token": "t"}},
                       content_type="application/json").status_code == 401


# ---------------------------------------------------------------------------
# Keys


def test_a_second_key_decrypts_values_of_the_old_one_and_rotation_moves_them_to_the_new(alice, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NODEFLOW = {**settings.NODEFLOW, "SECRET_KEYS": [old_key]}
    credential = services.create_credential(alice, "api", "bearer", {"token": SECRET})

    settings.NODEFLOW = {**settings.NODEFLOW, "SECRET_KEYS": [new_key, old_key]}
    before_rotation = services.resolve_credential(alice.pk, credential.pk).data
    call_command("rotate_credentials", stdout=open("/dev/null", "w"))

    settings.NODEFLOW = {**settings.NODEFLOW, "SECRET_KEYS": [new_key]}
    after_rotation = services.resolve_credential(alice.pk, credential.pk).data
    settings.NODEFLOW = {**settings.NODEFLOW, "SECRET_KEYS": [old_key]}
    with pytest.raises(services.CredentialUnavailable, match="cannot be decrypted"):
        services.resolve_credential(alice.pk, credential.pk)

    assert before_rotation == after_rotation == {"token": SECRET}


def test_another_users_credential_resolves_like_a_missing_one(alice, bob):
    bobs = services.create_credential(bob, "api", "bearer", {"token": SECRET})

    with pytest.raises(services.CredentialUnavailable) as foreign:
        services.resolve_credential(alice.pk, bobs.pk)
    with pytest.raises(services.CredentialUnavailable) as missing:
        services.resolve_credential(alice.pk, "00000000-0000-4000-8000-000000000000")

    assert str(foreign.value).replace(str(bobs.pk), "<id>") == str(missing.value).replace(
        "00000000-0000-4000-8000-000000000000", "<id>")


# ---------------------------------------------------------------------------
# The admin


def test_staff_see_every_users_credentials_in_the_admin_without_values(client, alice, bob, django_user_model):
    services.create_credential(alice, "alice-api", "bearer", {"token": SECRET})
    bobs = services.create_credential(bob, "bob-api", "http_basic", {"username": "bob", "password": SECRET})
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(admin)

    listing = client.get("/admin/credentials/credential/")
    page = client.get(f"/admin/credentials/credential/{bobs.pk}/change/")

    assert listing.status_code == 200 and page.status_code == 200
    assert "alice-api" in listing.content.decode() and "bob-api" in listing.content.decode()
    for response in (listing, page):
        text = response.content.decode()
        assert SECRET not in text
        assert bobs.ciphertext not in text
