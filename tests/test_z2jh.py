"""hub_config/z2jh: the Zero to JupyterHub and dask-gateway values and the manifests beside them.

The YAML parses and holds the keys the deployment relies on; every Python snippet compiles and
does what it says when run as the charts run it (against a traitlets ``Config`` named ``c``,
with the charts' ``get_config`` / ``get_property``); every ``hub.config`` setting is a real
trait of its class; KubeSpawner builds a pod whose initContainer clones onto the user's own
volume; the three files agree on names, ports, paths and secrets; and the roles and scopes
agree with the embedded default (hub_config/jupyterhub_config.py) and with the scopes the
scorer enforces (scorer/service/auth.py).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jupyterhub.app import JupyterHub
from jupyterhub.auth import Authenticator
from traitlets.config import Config, PyFileConfigLoader

from scorer.config import ScorerSettings
from scorer.environments.kernelspecs import jupyter_path
from scorer.ingest.served import git_root
from scorer.scoring.inputs import inputs_root
from scorer.service.auth import SCOPES
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[1]
Z2JH = ROOT / "hub_config" / "z2jh"
EMBEDDED = ROOT / "hub_config" / "jupyterhub_config.py"
SHARED_ROLES = ("coop-participant", "coop-organiser")


def load(name: str) -> Any:
    return yaml.safe_load((Z2JH / name).read_text())


def manifests() -> dict[tuple[str, str], dict]:
    """coop-service.yaml's objects by (kind, name)."""
    documents = yaml.safe_load_all((Z2JH / "coop-service.yaml").read_text())
    return {(d["kind"], d["metadata"]["name"]): d for d in documents if d}


def helm_merge(base: dict, overlay: dict) -> dict:
    """``helm -f base -f overlay``: maps merge deeply, anything else replaces, null deletes."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def getter(values: dict):
    """The charts' ``get_config(key, default)`` / ``get_property(key, default)``: dotted lookups."""

    def get(key: str, default: Any = None) -> Any:
        node: Any = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return copy.deepcopy(node)

    return get


def run_snippets(snippets: dict[str, str], where: str, **names: Any) -> Config:
    """Execute the snippets in key order, as both charts do, with ``c`` and ``names`` in scope."""
    c = Config()
    for key in sorted(snippets):
        code = compile(snippets[key], f"{where}.{key}", "exec")
        exec(code, {"c": c, **names})
    return c


def container(deployment: dict) -> dict:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env(spec: dict) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in spec.get("env", [])}


def scopes_of(role: dict) -> set[str]:
    return set(role["scopes"])


@pytest.fixture(scope="module")
def values() -> dict:
    return load("values.yaml")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The embedded default's configuration, loaded the way JupyterHub loads it."""
    home = tmp_path_factory.mktemp("embedded")
    saved = dict(os.environ)
    os.environ.update(COOP_HOME=str(home), COOP_DEMO_PASSWORD="not-used")
    try:
        return PyFileConfigLoader(EMBEDDED.name, str(EMBEDDED.parent)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- parsing and the keys we rely on -----------------------------------------------------------


def test_every_file_parses():
    files = sorted(Z2JH.glob("*.yaml"))
    assert {f.name for f in files} >= {
        "values.yaml",
        "values-nativeauth.yaml",
        "dask-gateway-values.yaml",
        "coop-service.yaml",
    }
    for path in files:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert documents and all(isinstance(d, dict) for d in documents), path.name
    for (kind, name), document in manifests().items():
        assert document["apiVersion"] and kind and name


def test_the_hub_keys_we_rely_on(values):
    hub = values["hub"]
    assert hub["db"]["type"] == "postgres"
    assert hub["db"]["url"].startswith("postgresql+psycopg2://")
    assert hub["extraEnv"]["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "coop-secrets"
    assert hub["config"]["JupyterHub"]["authenticator_class"] == "github"
    assert set(hub["services"]) == {"coop", "dashboards", "dask-gateway"}
    assert hub["services"]["coop"]["oauth_client_allowed_scopes"] == list(SCOPES)
    assert set(hub["loadRoles"]) == {*SHARED_ROLES, "coop-scorer"}
    assert hub["config"]["KubeSpawner"]["server_token_scopes"]
    https = values["proxy"]["https"]
    assert https["enabled"] is True and https["type"] == "letsencrypt" and https["hosts"]
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    [attach] = values["singleuser"]["initContainers"]
    assert attach["name"] == "coop-attach"
    assert attach["command"][:2] == ["sh", "-c"] and attach["command"][2].startswith("coop attach ||")


def test_every_hub_config_setting_is_a_real_trait(values):
    require("kubespawner")
    import kubespawner
    from nativeauthenticator import NativeAuthenticator
    from oauthenticator.github import GitHubOAuthenticator

    classes = {
        "JupyterHub": JupyterHub,
        "Authenticator": Authenticator,
        "GitHubOAuthenticator": GitHubOAuthenticator,
        "NativeAuthenticator": NativeAuthenticator,
        "KubeSpawner": kubespawner.KubeSpawner,
    }
    native = helm_merge(values, load("values-nativeauth.yaml"))
    for effective, authenticator in ((values, GitHubOAuthenticator), (native, NativeAuthenticator)):
        config = effective["hub"]["config"]
        for section, traits in config.items():
            known = classes[section].class_traits(config=True)
            assert set(traits) <= set(known), (section, set(traits) - set(known))
        [entry] = entry_points(
            group="jupyterhub.authenticators", name=config["JupyterHub"]["authenticator_class"]
        )
        assert entry.load() is authenticator
        assert authenticator.__name__ in config  # the chosen authenticator is the one configured


# --- the snippets, run as the charts run them --------------------------------------------------


def test_hub_snippet_puts_everyone_in_participants_and_the_named_in_organisers(values):
    values = helm_merge(values, {"custom": {"coop": {"organisers": ["olga"]}}})
    c = run_snippets(values["hub"]["extraConfig"], "hub.extraConfig", get_config=getter(values))
    authenticator = Authenticator(config=c)
    assert authenticator.manage_groups is True

    async def login(name: str) -> list[str]:
        model = await authenticator.run_post_auth_hook(None, {"name": name, "admin": None})
        return model["groups"]

    assert asyncio.run(login("olga")) == ["participants", "organisers"]
    assert asyncio.run(login("alice")) == ["participants"]
    unset = run_snippets(load("values.yaml")["hub"]["extraConfig"], "hub.extraConfig", get_config=getter({}))
    assert asyncio.run(Authenticator(config=unset).run_post_auth_hook(None, {"name": "olga"}))["groups"] == [
        "participants"
    ]


def test_native_overlay_replaces_github_and_finds_its_templates(values):
    native = helm_merge(values, load("values-nativeauth.yaml"))
    hub = native["hub"]
    assert "GitHubOAuthenticator" not in hub["config"]
    assert not {"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"} & set(hub["extraEnv"])
    assert hub["config"]["Authenticator"]["admin_users"], "someone must approve the sign-ups"
    assert set(hub["extraConfig"]) == {"coop-groups", "coop-jwks", "coop-nativeauth-templates"}
    c = run_snippets(hub["extraConfig"], "hub.extraConfig", get_config=getter(native))
    [templates] = JupyterHub(config=c).template_paths
    assert (Path(templates) / "signup.html").is_file()


def test_gateway_snippets_admit_only_holders_of_the_gateway_scope(values):
    require("dask-gateway-server")
    require("kubernetes_asyncio")
    from dask_gateway_server.auth import JupyterHubAuthenticator
    from dask_gateway_server.backends.kubernetes import KubeClusterConfig

    gateway_values = load("dask-gateway-values.yaml")
    c = run_snippets(
        gateway_values["gateway"]["extraConfig"], "gateway.extraConfig", get_property=getter(gateway_values)
    )
    authenticator = JupyterHubAuthenticator(config=c)
    assert authenticator.jupyterhub_service_name == "dask-gateway"
    assert authenticator.use_service_access_scopes is True
    limits = KubeClusterConfig(config=c)
    assert limits.cluster_max_workers > 0 and limits.idle_timeout > 0
    # The scope is the coop service's alone: no role held by people grants any service access.
    granted = {
        scope
        for role in values["hub"]["loadRoles"].values()
        if role.get("users") or role.get("groups")
        for scope in role["scopes"]
    }
    assert not {s for s in granted if s == "access:services" or s.endswith("service=dask-gateway")}
    [scorer] = [
        r
        for r in values["hub"]["loadRoles"].values()
        if "access:services!service=dask-gateway" in r["scopes"]
    ]
    assert scorer["services"] == ["coop"]


# --- the files agree with each other and with the scorer ---------------------------------------


def test_the_gateway_is_wired_to_the_hub_and_the_scorer(values):
    gateway = load("dask-gateway-values.yaml")["gateway"]
    hub_services = values["hub"]["services"]
    auth = gateway["auth"]
    assert auth["type"] == "jupyterhub"
    assert auth["jupyterhub"]["apiTokenFromSecretName"] == "hub"  # the Z2JH chart's Secret
    assert auth["jupyterhub"]["apiTokenFromSecretKey"] == "hub.services.dask-gateway.apiToken"
    assert urlsplit(auth["jupyterhub"]["apiUrl"]).netloc == "hub:8081"
    assert gateway["backend"]["worker"]["threads"] == 1  # one notebook per worker
    coop_env = env(container(manifests()[("Deployment", "coop")]))
    address = urlsplit(coop_env["COOP_GATEWAY"])
    assert address.netloc == urlsplit(hub_services["dask-gateway"]["url"]).netloc == "traefik-dask-gateway"
    assert address.path == gateway["prefix"] == "/services/dask-gateway"
    assert coop_env["JUPYTERHUB_API_TOKEN"]["secretKeyRef"] == {
        "name": "hub",
        "key": "hub.services.coop.apiToken",
    }
    assert coop_env["COOP_DB_URL"]["secretKeyRef"]["name"] == "coop-secrets"
    assert "COOP_GATEWAY_AUTH" not in coop_env  # jupyterhub, the default


def test_services_are_reached_where_their_pods_listen(values):
    objects = manifests()
    for service in ("coop", "dashboards"):
        url = urlsplit(values["hub"]["services"][service]["url"])
        [port] = objects[("Service", service)]["spec"]["ports"]
        assert (url.hostname, url.port) == (service, port["port"])
        pod = container(objects[("Deployment", service)])
        assert [p["containerPort"] for p in pod["ports"]] == [port["port"]]
    coop = container(objects[("Deployment", "coop")])
    assert coop["command"][:2] == ["coop", "serve"]
    assert coop["command"][coop["command"].index("--prefix") + 1] == "/services/coop/"
    assert coop["readinessProbe"]["httpGet"]["path"] == "/services/coop/api/health"
    voila = container(objects[("Deployment", "dashboards")])
    assert "--Voila.base_url=/services/dashboards/" in voila["command"]
    # the embedded hub's Voila flags: preheated kernels, and the template that asks no CDN
    assert {"--preheat_kernel=True", "--pool_size=1", "--template=coop"} <= set(voila["command"])
    assert env(voila)["JUPYTER_PATH"] == "/srv/hub_config"
    service_url = values["hub"]["services"]["coop"]["url"] + "/services/coop/"
    [attach] = values["singleuser"]["initContainers"]
    assert values["singleuser"]["extraEnv"]["COOP_SERVICE_URL"] == service_url
    assert env(attach)["COOP_SERVICE_URL"] == service_url
    assert env(voila)["COOP_SERVICE_URL"] == service_url


def test_scoring_workers_see_the_scorers_state_but_no_answer_keys_and_user_pods_never_do(values):
    objects = manifests()
    coop = objects[("Deployment", "coop")]["spec"]["template"]["spec"]
    home = env(coop["containers"][0])["COOP_HOME"]
    [mount] = [m for m in coop["containers"][0]["volumeMounts"] if m["name"] == "coop-home"]
    [volume] = [v for v in coop["volumes"] if v["name"] == "coop-home"]
    assert mount["mountPath"] == home and volume["persistentVolumeClaim"]["claimName"] == "coop-home"
    claim = objects[("PersistentVolumeClaim", "coop-home")]["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"]  # the coop pod and the workers at once

    worker = load("dask-gateway-values.yaml")["gateway"]["backend"]["worker"]
    pod, box = worker["extraPodConfig"], worker["extraContainerConfig"]
    assert pod["securityContext"]["runAsUser"] == coop["securityContext"]["runAsUser"]  # shared caches
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["coop-home"]["persistentVolumeClaim"]["claimName"] == "coop-home"
    settings = ScorerSettings(home=home)  # tasks carry these paths: the workers must have them
    mounts = {m["mountPath"]: m for m in box["volumeMounts"]}
    read_only = {str(git_root(settings.home_path)), str(inputs_root(settings))}
    writable = {str(settings.mirrors), str(settings.trusted), str(settings.runs)}
    assert set(mounts) == read_only | writable | {str(settings.environments)}
    read_only.add(str(settings.environments))
    assert {path for path, m in mounts.items() if m.get("readOnly")} == read_only
    for path in read_only - {str(settings.environments)} | {str(settings.mirrors), str(settings.trusted)}:
        assert mounts[path]["name"] == "coop-home" and mounts[path]["subPath"] == Path(path).name
    assert "emptyDir" in volumes[mounts[str(settings.runs)]["name"]]
    # Nothing of the phase data (answer keys, seeds): the home only by sub-path, never data/.
    assert all(m.get("subPath") for m in box["volumeMounts"] if m["name"] == "coop-home")
    assert str(settings.data_root) not in mounts
    assert box["securityContext"]["allowPrivilegeEscalation"] is False

    singleuser = values["singleuser"]
    user_volumes = singleuser["storage"].get("extraVolumes", [])
    assert not [v for v in user_volumes if v.get("persistentVolumeClaim", {}).get("claimName") == "coop-home"]
    [attach] = singleuser["initContainers"]
    assert [m["name"] for m in attach["volumeMounts"]] == [
        singleuser["storage"]["dynamic"]["volumeNameTemplate"]
    ]


def test_roles_and_scopes_agree_with_the_embedded_default_and_the_scorer(values, embedded):
    hub = values["hub"]
    described = {scope: {"description": text} for scope, text in SCOPES.items()}
    assert hub["config"]["JupyterHub"]["custom_scopes"] == described
    assert embedded.JupyterHub.custom_scopes == described
    theirs = {role["name"]: role for role in embedded.JupyterHub.load_roles}
    for name in SHARED_ROLES:
        ours = hub["loadRoles"][name]
        assert scopes_of(ours) == scopes_of(theirs[name]), name
        assert ours["groups"] == theirs[name]["groups"], name
        assert ours["description"] == theirs[name]["description"], name
    server_scopes = hub["config"]["KubeSpawner"]["server_token_scopes"]
    assert set(server_scopes) == set(embedded.Spawner.server_token_scopes)
    # The embedded default adds --allow-root when its hub runs as root: user pods never do.
    assert set(hub["config"]["KubeSpawner"]["args"]) == set(embedded.Spawner.args) - {"--allow-root"}
    [coop] = [s for s in embedded.JupyterHub.services if s["name"] == "coop"]
    assert set(hub["services"]["coop"]["oauth_client_allowed_scopes"]) == set(
        coop["oauth_client_allowed_scopes"]
    )
    assert values["singleuser"]["defaultUrl"] == embedded.Spawner.default_url
    # Every custom scope used anywhere is one the scorer enforces.
    used = [*server_scopes, *(s for role in hub["loadRoles"].values() for s in role["scopes"])]
    assert {s.partition("!")[0] for s in used if s.startswith("custom:")} == set(SCOPES)


# --- the pod KubeSpawner makes from these values ------------------------------------------------


def kubespawner_config(values: dict) -> Config:
    """What the Z2JH chart's jupyterhub_config.py sets on KubeSpawner from the singleuser keys we
    use (image, dynamic storage, initContainers, extraEnv, defaultUrl) and from hub.config."""
    singleuser = values["singleuser"]
    storage = singleuser["storage"]
    volume = storage["dynamic"]["volumeNameTemplate"]
    c = Config()
    c.KubeSpawner.image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
    c.KubeSpawner.volumes = [{"name": volume, "persistentVolumeClaim": {"claimName": "claim-{user_server}"}}]
    c.KubeSpawner.volume_mounts = [{"name": volume, "mountPath": storage["homeMountPath"]}]
    c.KubeSpawner.init_containers = singleuser["initContainers"]
    c.KubeSpawner.environment = singleuser["extraEnv"]
    c.KubeSpawner.default_url = singleuser["defaultUrl"]
    c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
    c.merge(Config(values["hub"]["config"]))
    return c


def test_kubespawner_clones_onto_the_users_own_volume_as_the_user(values, tmp_path, monkeypatch):
    require("kubespawner")
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner
    from kubespawner.spawner import MockObject

    # KubeSpawner loads a client configuration when it is made; building a pod never calls it.
    kubeconfig = tmp_path / "kubeconfig"
    cluster = {"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}
    context = {"name": "none", "context": {"cluster": "none", "user": "none", "namespace": "coop"}}
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "users": [{"name": "none", "user": {"token": "none"}}],
                "contexts": [context],
                "current-context": "none",
            }
        )
    )
    # What KUBECONFIG says, read once when kubernetes_asyncio is imported (it already is).
    from kubernetes_asyncio.config import kube_config

    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    user = MockObject()
    user.name, user.id, user.url = "Zoë.Smith@example.org", 7, "/user/Zoë.Smith@example.org/"

    async def pod_manifest():
        spawner = KubeSpawner(_mock=True, config=kubespawner_config(values), user=user)
        spawner.api_token = "server-token"
        pod = await spawner.get_pod_manifest()
        async with ApiClient() as api:
            return spawner, api.sanitize_for_serialization(pod)  # the JSON the API server receives

    spawner, manifest = asyncio.run(pod_manifest())
    spec = manifest["spec"]
    [attach] = [c for c in spec["initContainers"] if c["name"] == "coop-attach"]
    assert attach["command"][-1].startswith("coop attach")
    attach_env = env(attach)
    assert attach_env["JUPYTERHUB_USER"] == "Zoë.Smith@example.org"  # the hub name, unescaped
    assert "JUPYTERHUB_API_TOKEN" not in attach_env  # an anonymous clone
    [mount] = attach["volumeMounts"]
    [notebook] = spec["containers"]
    assert mount in notebook["volumeMounts"]  # the user's own home, where the server finds it
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    assert volume["persistentVolumeClaim"]["claimName"].startswith("claim-zo-smith-example-org")
    assert attach_env["HOME"] == mount["mountPath"] == values["singleuser"]["storage"]["homeMountPath"]
    assert env(notebook)["COOP_SERVICE_URL"] == attach_env["COOP_SERVICE_URL"]
    assert spawner.server_token_scopes == values["hub"]["config"]["KubeSpawner"]["server_token_scopes"]


def test_no_participant_is_asked_about_jupyter_news(values, embedded, monkeypatch):
    """Both hubs disable JupyterLab's announcements plugin (its "get notified about official
    Jupyter news?" prompt) with the same page config, where JupyterLab reads it, and fetch no news."""
    from jupyter_core.paths import SYSTEM_CONFIG_PATH
    from jupyterlab_server.config import get_static_page_config

    folder = embedded.Spawner.environment["JUPYTER_CONFIG_PATH"]
    page_config = json.loads((Path(folder) / "labconfig" / "page_config.json").read_text())
    assert page_config == {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", folder)
    assert get_static_page_config(level="all")["disabledExtensions"] == page_config["disabledExtensions"]

    mounted = values["singleuser"]["extraFiles"]["jupyterlab-no-news"]
    assert mounted["data"] == page_config
    system_labconfig = mounted["mountPath"].removesuffix("/page_config.d/coopetition.json")
    assert system_labconfig == "/etc/jupyter/labconfig" and "/etc/jupyter" in SYSTEM_CONFIG_PATH
    assert "--LabApp.news_url=None" in embedded.Spawner.args
    assert "--LabApp.news_url=None" in values["hub"]["config"]["KubeSpawner"]["args"]


def test_the_proxy_routes_the_scorer_keys_at_the_root_and_the_scorer_knows_its_address(values):
    hub = values["hub"]
    c = run_snippets(
        {"coop-jwks": hub["extraConfig"]["coop-jwks"]}, "hub.extraConfig", get_config=getter(values)
    )
    assert c.Proxy.extra_routes == {"/.well-known/": hub["services"]["coop"]["url"]}
    coop_env = env(container(manifests()[("Deployment", "coop")]))
    assert coop_env["COOP_PUBLIC_URL"] == f"https://{values['proxy']['https']['hosts'][0]}/services/coop"


def test_challenge_environments_are_one_volume_at_the_same_path_in_every_pod(values):
    """Built where the scorer's settings put them, writable only there; read-only at that same
    path in the scoring workers and the user pods, whose JupyterLab finds the kernelspecs."""
    objects = manifests()
    coop = objects[("Deployment", "coop")]["spec"]["template"]["spec"]
    settings = ScorerSettings(home=env(coop["containers"][0])["COOP_HOME"])
    claim = objects[("PersistentVolumeClaim", "coop-environments")]["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"]

    def mounted(volumes: list[dict], mounts: list[dict]) -> dict:
        claims = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in volumes}
        [mount] = [m for m in mounts if claims.get(m["name"]) == "coop-environments"]
        assert "subPath" not in mount
        return mount

    scorer = mounted(coop["volumes"], coop["containers"][0]["volumeMounts"])
    assert scorer["mountPath"] == str(settings.environments) and not scorer.get("readOnly")
    worker = load("dask-gateway-values.yaml")["gateway"]["backend"]["worker"]
    workers = mounted(worker["extraPodConfig"]["volumes"], worker["extraContainerConfig"]["volumeMounts"])
    assert workers["mountPath"] == str(settings.environments) and workers["readOnly"] is True
    storage = values["singleuser"]["storage"]
    users = mounted(storage["extraVolumes"], storage["extraVolumeMounts"])
    assert users["mountPath"] == str(settings.environments) and users["readOnly"] is True
    assert values["singleuser"]["extraEnv"]["JUPYTER_PATH"] == str(jupyter_path(settings))


def test_the_embedded_hub_offers_the_challenge_kernels_too(embedded):
    home = embedded.JupyterHub.services[0]["environment"]["COOP_HOME"]
    assert embedded.Spawner.environment["JUPYTER_PATH"] == str(jupyter_path(ScorerSettings(home=home)))
