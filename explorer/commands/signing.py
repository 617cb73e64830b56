"""``mlprov sign`` and ``mlprov verify``: thin commands over :mod:`signing`.

TARGET is a model directory or file, ``models:/NAME/VERSION``, ``NAME/VERSION``, ``models:/NAME@ALIAS`` or a
``model_version:`` id; registry targets are resolved through the lineage store (which the MLflow
scan fills) to their artifact location, and the outcome is recorded there as a ``signature`` node.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from explorer.commands.common import EXIT_CHECK_FAILED, emit_json, fail, open_store, settings
from explorer.commands.richprogress import RichProgress
from explorer.lineage import NodeKind, model_id, model_version_id
from explorer.resolve import registered_version
from explorer.store import LineageStore, StoreError

CACHE_RELPATH = Path(".mlprov") / "digest-cache.json"
TRUST_RELPATH = Path(".mlprov") / "trust"
PASSWORD_ENV = "MLPROV_KEY_PASSWORD"


@dataclass(frozen=True, slots=True)
class Target:
    """A TARGET resolved to files on disk; ``subject_id`` is set for registry targets."""

    path: Path
    name: str
    subject_id: str | None = None
    local: bool = True  # False: a temporary download, nothing may be written beside it


# --- shared options ----------------------------------------------------------------------------------

_trust_options = [
    click.option("--staging", is_flag=True, help="Use Sigstore's staging instance instead of production."),
    click.option(
        "--trust-config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A Sigstore client trust config (JSON) for a private Sigstore instance.",
    ),
]
_hashing_options = [
    click.option(
        "--ignore-paths",
        "ignore_paths",
        multiple=True,
        metavar="PATH",
        help="A file or directory of the model to leave out (relative to the current directory or "
        "the model). Repeatable.",
    ),
    click.option("--model-name", metavar="NAME", help="The model's name (default: the directory or registered name)."),
    click.option("--json", "as_json", is_flag=True, help="Print a JSON document instead of text."),
]


_F = TypeVar("_F", bound=Callable[..., Any])


def _apply(options: list[Callable[[_F], _F]]) -> Callable[[_F], _F]:
    """Apply a list of click options (shared by sign and verify) as one decorator."""

    def decorate(fn: _F) -> _F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


# --- sign ---------------------------------------------------------------------------------------------


@click.command()
@click.argument("target")
@click.option(
    "--method",
    type=click.Choice(["sigstore", "key", "certificate"]),
    help="How to sign. Default: certificate with --certificate, key with --private-key, else sigstore.",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the bundle. Default: model.sig inside a model directory, FILE.sig beside a file.",
)
@click.option(
    "--identity-token",
    metavar="TOKEN",
    help="OIDC identity token (else $SIGSTORE_ID_TOKEN, else ambient CI).",
)
@click.option("--interactive", is_flag=True, help="Allow the browser OAuth flow when no token is found.")
@_apply(_trust_options)
@click.option(
    "--private-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM ECDSA private key (P-256/384/521).",
)
@click.option(
    "--password-env",
    default=PASSWORD_ENV,
    show_default=True,
    metavar="VAR",
    help="Environment variable holding the private key's password.",
)
@click.option("--certificate", type=click.Path(dir_okay=False, path_type=Path), help="PEM signing (leaf) certificate.")
@click.option(
    "--cert-chain",
    "cert_chain",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM intermediate/root certificates to ship in the bundle. Repeatable.",
)
@click.option(
    "--shard-size",
    type=click.IntRange(min=1),
    metavar="BYTES",
    help="Hash files in shards of this size (parallel within a file; upstream's 'shards' method).",
)
@click.option("--allow-symlinks", is_flag=True, help="Follow symbolic links instead of refusing them.")
@click.option("--no-ignore-git-paths", is_flag=True, help="Sign .git, .gitignore, .gitattributes and .github too.")
@click.option("--no-cache", is_flag=True, help="Re-hash every file instead of reusing digests of unchanged files.")
@_apply(_hashing_options)
@click.pass_context
def sign(
    ctx: click.Context,
    target: str,
    method: str | None,
    output: Path | None,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    private_key: Path | None,
    password_env: str,
    certificate: Path | None,
    cert_chain: tuple[Path, ...],
    shard_size: int | None,
    allow_symlinks: bool,
    no_ignore_git_paths: bool,
    no_cache: bool,
    ignore_paths: tuple[str, ...],
    model_name: str | None,
    as_json: bool,
) -> None:
    """Sign TARGET into an OMS Sigstore bundle (verifiable with `model_signing verify` too).

    \b
    Examples:
      mlprov sign ./model --method key --private-key key.pem
      mlprov sign ./model --method certificate --private-key key.pem \
          --certificate leaf.pem --cert-chain ca.pem
      mlprov sign models:/fraud/3              # keyless, token from CI or $SIGSTORE_ID_TOKEN
    """
    from signing.digest_cache import DigestCache
    from signing.sign import sign_model

    cfg = settings(ctx)
    chosen = method or ("certificate" if certificate else "key" if private_key else "sigstore")
    with _resolved(ctx, target) as resolved, _errors_as_exit():
        signing_method = _signing_method(
            chosen,
            identity_token,
            interactive,
            staging,
            trust_config,
            private_key,
            os.environ.get(password_env),
            certificate,
            cert_chain,
            cfg.workspace,
        )
        if output is None and not resolved.local:
            fail(f"{target} is not on a local file system: give -o PATH for the signature")
        cache = None if no_cache else DigestCache(cfg.workspace / CACHE_RELPATH)
        with RichProgress(quiet=as_json) as progress:
            result = sign_model(
                resolved.path,
                signing_method,
                signature_path=output,
                ignore_paths=ignore_paths,
                ignore_git_paths=not no_ignore_git_paths,
                allow_symlinks=allow_symlinks,
                shard_size=shard_size,
                cache=cache,
                model_name=model_name or resolved.name,
                progress=progress,
            )
        if resolved.subject_id:
            _record(ctx, result.bundle_path, resolved.subject_id, result)
    if as_json:
        emit_json({"target": target, **result.to_dict(), "subject_id": resolved.subject_id})
        return
    who = f"{result.identity}" + (f" (issuer {result.issuer})" if result.issuer else "")
    click.echo(
        f"Signed {target}: {result.files} files, {result.bytes_total / 1e6:.1f} MB "
        f"({result.bytes_hashed / 1e6:.1f} MB hashed, {result.cache_hits} unchanged) by {who}"
    )
    click.echo(f"Signature: {result.bundle_path}  [{result.method}, sha256:{result.bundle_sha256[:16]}…]")


def _signing_method(
    chosen: str,
    identity_token: str | None,
    interactive: bool,
    staging: bool,
    trust_config: Path | None,
    private_key: Path | None,
    password: str | None,
    certificate: Path | None,
    cert_chain: tuple[Path, ...],
    workspace: Path,
) -> Any:
    from signing.sign import CertificateSigning, KeylessSigning, KeySigning

    if chosen == "key":
        if private_key is None:
            fail("--method key needs --private-key PATH")
        return KeySigning(private_key, password)
    if chosen == "certificate":
        if private_key is None or certificate is None:
            fail("--method certificate needs --private-key PATH and --certificate PATH (and --cert-chain)")
        return CertificateSigning(private_key, certificate, cert_chain, password)
    config, _ = _trust(staging, trust_config, refresh=False, workspace=workspace)
    return KeylessSigning(config, identity_token=identity_token, interactive=interactive)


# --- verify ---------------------------------------------------------------------------------------------


@click.command()
@click.argument("target")
@click.option(
    "-s",
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle to verify. Default: model.sig inside a model directory, FILE.sig beside a file.",
)
@click.option("--identity", metavar="ID", help="Keyless: the signer's identity (e-mail, workflow URI...).")
@click.option("--identity-regex", metavar="REGEX", help="Keyless: a regex the identity must fully match.")
@click.option("--issuer", metavar="URL", help="Keyless: the OIDC issuer that vouched for the identity.")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), help="Key: the signer's PEM public key.")
@click.option(
    "--cert-chain",
    "cert_chain",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Certificate: the PEM root/intermediate(s) to trust (nothing else is trusted). Repeatable.",
)
@click.option(
    "--cert-identity",
    metavar="ID",
    help="Certificate: the identity the signing certificate must name (SAN, else subject or CN).",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Signer policy used when no identity option is given. Default: signers.yaml in the workspace.",
)
@_apply(_trust_options)
@click.option(
    "--refresh-trust",
    is_flag=True,
    help="Update the Sigstore trust root over the network (TUF) and pin it in .mlprov/trust/.",
)
@click.option(
    "--use-cache",
    is_flag=True,
    help="Reuse digests of files whose size/mtime/ctime/inode did not change (faster, weaker).",
)
@_apply(_hashing_options)
@click.pass_context
def verify(
    ctx: click.Context,
    target: str,
    signature: Path | None,
    identity: str | None,
    identity_regex: str | None,
    issuer: str | None,
    public_key: Path | None,
    cert_chain: tuple[Path, ...],
    cert_identity: str | None,
    policy: Path | None,
    staging: bool,
    trust_config: Path | None,
    refresh_trust: bool,
    use_cache: bool,
    ignore_paths: tuple[str, ...],
    model_name: str | None,
    as_json: bool,
) -> None:
    """Verify TARGET against its signature: who signed it, and that no file changed.

    Offline by default (the Sigstore trust root embedded in mlprov's sigstore package).
    Exit 0 verified, 1 not verified, 2 bad usage.

    \b
    Examples:
      mlprov verify ./model --identity alice@example.com --issuer https://accounts.google.com
      mlprov verify ./model --public-key key.pub
      mlprov verify ./model --cert-chain ca.pem --cert-identity ml-release@example.com
      mlprov verify models:/fraud@champion     # signers from signers.yaml
    """
    from signing.digest_cache import DigestCache
    from signing.errors import VerificationFailure
    from signing.sign import default_signature_path
    from signing.verify import verify_model

    cfg = settings(ctx)
    with _resolved(ctx, target) as resolved, _errors_as_exit():
        name = model_name or resolved.name
        signers = _expected_signers(
            identity,
            identity_regex,
            issuer,
            public_key,
            cert_chain,
            cert_identity,
            policy,
            cfg.workspace,
            name,
        )
        bundle = signature or default_signature_path(resolved.path)
        config = None
        if _needs_trust(bundle):
            config, _ = _trust(staging, trust_config, refresh=refresh_trust, workspace=cfg.workspace)
        cache = DigestCache(cfg.workspace / CACHE_RELPATH) if use_cache else None
        try:
            with RichProgress(quiet=as_json) as progress:
                result = verify_model(
                    resolved.path,
                    bundle,
                    signers,
                    trust_config=config,
                    ignore_paths=ignore_paths,
                    cache=cache,
                    model_name=name,
                    progress=progress,
                )
        except VerificationFailure as failure:
            result = failure.result
        if resolved.subject_id:
            _record(ctx, bundle, resolved.subject_id, result)
    if as_json:
        emit_json({"target": target, "subject_id": resolved.subject_id, **result.to_dict()})
        if not result.verified:
            raise SystemExit(EXIT_CHECK_FAILED)
        return
    if not result.verified:
        click.echo(f"mlprov: verification of {target} failed: {result.summary}", err=True)
        for problem in result.problems if len(result.problems) > 1 else []:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(EXIT_CHECK_FAILED)
    who = f"{result.identity}" + (f" (issuer {result.issuer})" if result.issuer else "")
    click.echo(f"Verified {target}: {result.files} files match the signature by {who} [{result.method}]")


def _expected_signers(
    identity: str | None,
    identity_regex: str | None,
    issuer: str | None,
    public_key: Path | None,
    cert_chain: tuple[Path, ...],
    cert_identity: str | None,
    policy: Path | None,
    workspace: Path,
    model_name: str,
) -> list[Any]:
    from signing.policy import POLICY_NAME, load_policy
    from signing.verify import CertificateSigner, KeylessSigner, KeySigner

    signers: list[Any] = []
    if identity or identity_regex or issuer:
        if not issuer or not (identity or identity_regex):
            fail("keyless verification needs --issuer and one of --identity or --identity-regex")
        signers.append(KeylessSigner(issuer=issuer, identity=identity, identity_regex=identity_regex))
    if public_key:
        signers.append(KeySigner(public_key))
    if cert_chain or cert_identity:
        if not cert_chain or not cert_identity:
            fail(
                "certificate verification needs both --cert-chain PATH and --cert-identity ID "
                "(mlprov never trusts the web roots nor an unnamed signer)"
            )
        signers.append(CertificateSigner(cert_chain, cert_identity))
    if signers:
        return signers
    policy_path = policy or workspace / POLICY_NAME
    if policy is None and not policy_path.is_file():
        fail(
            "no expected signer: pass --identity/--issuer, --public-key, --cert-chain/--cert-identity, "
            f"or write a signer policy {POLICY_NAME}"
        )
    allowed = load_policy(policy_path).signers_for(model_name)
    if not allowed:
        fail(f"{policy_path} allows no signer for model {model_name!r}: nobody may sign it", EXIT_CHECK_FAILED)
    return allowed


def _needs_trust(bundle: Path) -> bool:
    """Whether the bundle is keyless (so the Sigstore trust root must be loaded)."""
    from signing.bundle import Method, read_bundle

    return read_bundle(bundle).method is Method.SIGSTORE


def _trust(staging: bool, trust_config: Path | None, *, refresh: bool, workspace: Path) -> tuple[Any, Any]:
    from signing.trust import Instance, resolve_trust_config

    instance = Instance.STAGING if staging else Instance.PRODUCTION
    return resolve_trust_config(
        instance=instance, trust_config=trust_config, refresh=refresh, pin_dir=workspace / TRUST_RELPATH
    )


# --- targets and recording --------------------------------------------------------------------------------


@contextmanager
def _errors_as_exit() -> Iterator[None]:
    """Signing errors become one line on stderr: exit 2 for inputs, 1 for failed checks."""
    from signing.errors import SigningError, SigningInputError, VerificationFailure

    try:
        yield
    except VerificationFailure as exc:
        fail(exc.diagnostics(), EXIT_CHECK_FAILED)
    except SigningInputError as exc:
        fail(exc.diagnostics())
    except SigningError as exc:
        fail(exc.diagnostics(), EXIT_CHECK_FAILED)


@contextmanager
def _resolved(ctx: click.Context, target: str) -> Iterator[Target]:
    """TARGET as files on disk; a registry target's remote artifacts are downloaded and removed after."""
    if not (target.startswith("models:/") or target.startswith(f"{NodeKind.MODEL_VERSION}:")):
        path = Path(target)
        if not path.exists():
            if "/" in target and _registered(ctx, target):  # NAME/VERSION, as `diff` and the explorer take it
                target = f"models:/{target}"
            else:
                fail(
                    f"{target} does not exist (expected a model directory or file, models:/NAME/VERSION, "
                    "NAME/VERSION, models:/NAME@ALIAS or a model_version: id)"
                )
        else:
            yield Target(path, path.resolve().name)
            return
    subject_id, name, location = _registry_location(ctx, target)
    local = _local_path(location)
    if local is not None:
        if not local.exists():
            fail(f"the artifacts of {subject_id} are recorded at {local}, which does not exist")
        yield Target(local, name, subject_id)
        return
    download = Path(tempfile.mkdtemp(prefix="mlprov-sign-"))
    try:
        yield Target(_download(location, download), name, subject_id, local=False)
    finally:
        shutil.rmtree(download, ignore_errors=True)


def _registry_location(ctx: click.Context, target: str) -> tuple[str, str, str]:
    """(model_version id, registered name, artifact location) of a registry target, from the store."""
    store = open_store(ctx, create=False)
    try:
        version_id = _version_id(store, target)
        node = store.node(version_id)
        if node is None:
            fail(f"the lineage store does not know {target} ({version_id}): run `mlprov scan --mlflow URI` first")
        props = node.properties
        model = store.node(model_id(str(props["model_id"]))) if props.get("model_id") else None
        # where the scan found the files first: a store cloned or moved since keeps the logging machine's path
        found = model.properties if model else {}
        location = found.get("artifact_read_from") or found.get("artifact_location") or props.get("source")
        if not location or str(location).startswith("models:/"):
            fail(f"the lineage store has no artifact location for {version_id}: rescan its MLflow source")
        return (
            version_id,
            str(props.get("name") or version_id.split(":", 1)[1].rsplit("/", 1)[0]),
            str(location),
        )
    finally:
        store.close()


def _registered(ctx: click.Context, target: str) -> bool:
    """Whether the lineage store knows ``NAME/VERSION`` as a registered model version."""
    try:
        store = LineageStore.open(settings(ctx).db_url, create=False)
    except StoreError:
        return False  # no store here: TARGET is then only a path that does not exist
    try:
        return registered_version(store, target) is not None
    finally:
        store.close()


def _version_id(store: Any, target: str) -> str:
    if target.startswith(f"{NodeKind.MODEL_VERSION}:"):
        return target
    spec = target.removeprefix("models:/")
    if "@" in spec:
        name, alias = spec.rsplit("@", 1)
        prefix = model_version_id(name, "")
        for node in store.nodes_by_id(store.ids_with_prefix(prefix, limit=100_000)).values():
            if alias in (node.properties.get("aliases") or []):
                return str(node.id)
        fail(f"the lineage store knows no version of model {name!r} with alias {alias!r}")
    name, sep, version = spec.rpartition("/")
    if not sep or not name or not version:
        fail(f"{target}: expected models:/NAME/VERSION or models:/NAME@ALIAS")
    return model_version_id(name, version)


def _local_path(location: str) -> Path | None:
    if location.startswith("file://"):
        return Path(location.removeprefix("file://"))
    if "://" not in location and ":/" not in location:
        return Path(location)
    return None


def _download(location: str, destination: Path) -> Path:
    import mlflow.artifacts  # lazily: MLflow is heavy and only registry targets need it

    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=str(destination)))
    except Exception as exc:  # MLflow raises many types (MlflowException, requests, boto) for one failure
        fail(f"cannot download the model artifacts from {location}: {str(exc).splitlines()[0]}")


def _record(ctx: click.Context, bundle: Path, subject_id: str, result: Any) -> None:
    from signing.lineage import signature_facts

    store = open_store(ctx)
    try:
        store.write_batch("signing", signature_facts(bundle, subject_id, result))
    finally:
        store.close()
