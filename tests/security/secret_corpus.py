"""The corpus `redact` is measured on: realistic secrets in the text they arrive in, and ordinary support messages.

Every secret below is made up but has the real shape, and sits in the kind of text a provider error, a log line, a
pasted config file or a support message carries it in. The ordinary messages are generated from templates with a
seeded random, so the corpus is the same on every run and holds what support text is full of and redaction must
leave alone: invoice numbers, order ids, UUIDs, dates, hex colours, prices, git SHAs, ticket links, tokens counts.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

__all__ = ('ORDINARY', 'SECRETS', 'Secret')


@dataclass(frozen=True, kw_only=True)
class Secret:
    """A secret in its surrounding text."""

    kind: str
    """What sort of secret it is (the corpus counts kinds)."""
    text: str
    """The text it arrives in."""
    secret: str
    """The secret itself: none of it may be left after redaction."""


def _rand(alphabet: str, n: int, seed: int) -> str:
    pick = random.Random(seed)
    return ''.join(pick.choice(alphabet) for _ in range(n))


_B62 = string.ascii_letters + string.digits
_B64 = _B62 + '+/'
_HEX = '0123456789abcdef'
_UP = string.ascii_uppercase + string.digits

AWS_ID = 'AKIA' + _rand(_UP, 16, 1)
AWS_STS_ID = 'ASIA' + _rand(_UP, 16, 2)
AWS_SECRET = _rand(_B64, 40, 3)
AWS_SESSION = 'IQoJb3JpZ2luX2VjE' + _rand(_B64, 120, 4) + '=='
GCP_KEY = 'AIza' + _rand(_B62 + '-_', 35, 5)
GCP_OAUTH = 'ya29.a0' + _rand(_B62 + '-_', 60, 6)
GCP_CLIENT_SECRET = 'GOCSPX-' + _rand(_B62 + '-_', 28, 7)
AZURE_ACCOUNT_KEY = _rand(_B64, 86, 8) + '=='
AZURE_SAS_SIG = _rand(_B62, 43, 9) + '%3D'
AZURE_CLIENT_SECRET = _rand(_B62, 3, 10) + '8Q~' + _rand(_B62 + '~.-_', 34, 11)
STRIPE_LIVE = 'sk_live_51' + _rand(_B62, 96, 12)
STRIPE_RESTRICTED = 'rk_live_51' + _rand(_B62, 60, 13)
STRIPE_WEBHOOK = 'whsec_' + _rand(_B62, 32, 14)
SLACK_BOT = 'xoxb-2345678901-3456789012345-' + _rand(_B62, 24, 15)
SLACK_USER = 'xoxp-2345678901-2345678901-3456789012345-' + _rand(_HEX, 32, 16)
SLACK_HOOK = f'T0{_rand(_UP, 8, 17)}/B0{_rand(_UP, 8, 18)}/{_rand(_B62, 24, 19)}'
GITHUB_PAT = 'ghp_' + _rand(_B62, 36, 20)
GITHUB_FINE = 'github_pat_11A' + _rand(_UP, 21, 21) + '_' + _rand(_B62, 59, 22)
GITHUB_OAUTH = 'gho_' + _rand(_B62, 36, 23)
GITLAB_PAT = 'glpat-' + _rand(_B62 + '-_', 20, 24)
GITLAB_DEPLOY = 'gldt-' + _rand(_B62 + '-_', 20, 25)
OPENAI_PROJECT = 'sk-proj-' + _rand(_B62 + '-_', 120, 26)
OPENAI_LEGACY = 'sk-' + _rand(_B62, 48, 27)
ANTHROPIC = 'sk-ant-api03-' + _rand(_B62 + '-_', 93, 28) + 'AA'
JWT = (
    'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.'
    + _rand(_B62 + '-_', 86, 29)
)
PEM_BODY = '\n'.join(_rand(_B64, 64, 30 + i) for i in range(6))
SENDGRID = 'SG.' + _rand(_B62 + '-_', 22, 40) + '.' + _rand(_B62 + '-_', 43, 41)
NPM = 'npm_' + _rand(_B62, 36, 42)
PYPI = 'pypi-AgEIcHlwaS5vcmc' + _rand(_B62 + '-_', 70, 43)
HUGGINGFACE = 'hf_' + _rand(string.ascii_letters, 34, 44)
DIGITALOCEAN = 'dop_v1_' + _rand(_HEX, 64, 45)
SHOPIFY = 'shpat_' + _rand(_HEX, 32, 46)
TELEGRAM = '7123456789:AA' + _rand(_B62 + '-_', 33, 47)
BASIC = 'c3VwcG9ydDpUcjB1YmFkb3VyLTIwMjQ='
SESSION = _rand('abcdefghijklmnopqrstuvwxyz0123456789', 32, 48)

SECRETS: tuple[Secret, ...] = (
    # AWS
    Secret(kind='aws access key id', text=f'boto3 failed: InvalidClientTokenId for key {AWS_ID}.', secret=AWS_ID),
    Secret(kind='aws access key id', text=f'export AWS_ACCESS_KEY_ID={AWS_STS_ID}', secret=AWS_STS_ID),
    Secret(
        kind='aws secret key',
        text=f'[default]\naws_secret_access_key = {AWS_SECRET}\nregion = eu-west-1',
        secret=AWS_SECRET,
    ),
    Secret(kind='aws secret key', text=f'const creds = {{ awsSecretAccessKey: "{AWS_SECRET}" }};', secret=AWS_SECRET),
    Secret(kind='aws secret key', text=f'AWS_SECRET_ACCESS_KEY={AWS_SECRET} npm run deploy', secret=AWS_SECRET),
    Secret(kind='aws session token', text=f'aws_session_token={AWS_SESSION}\n', secret=AWS_SESSION),
    Secret(
        kind='aws presigned url',
        text=(
            'The download link https://podium-exports.s3.amazonaws.com/r/9.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256'
            f'&X-Amz-Date=20240311T101500Z&X-Amz-Expires=3600&X-Amz-Signature={_rand(_HEX, 64, 50)} returns 403'
        ),
        secret=_rand(_HEX, 64, 50),
    ),
    Secret(
        kind='aws sigv4 header',
        text=(
            f'Authorization: AWS4-HMAC-SHA256 Credential={AWS_ID}/20240311/us-east-1/s3/aws4_request, '
            f'SignedHeaders=host;x-amz-date, Signature={_rand(_HEX, 64, 51)}'
        ),
        secret=_rand(_HEX, 64, 51),
    ),
    # Google Cloud
    Secret(kind='gcp api key', text=f'Maps request denied (key={GCP_KEY}): API not enabled', secret=GCP_KEY),
    Secret(kind='gcp oauth token', text=f'token expired: {GCP_OAUTH} (refresh it)', secret=GCP_OAUTH),
    Secret(
        kind='gcp client secret',
        text=f'"installed": {{"client_id": "1.apps", "secret": "{GCP_CLIENT_SECRET}"}}',
        secret=GCP_CLIENT_SECRET,
    ),
    Secret(
        kind='gcp service account key',
        text=(
            '{"type": "service_account", "project_id": "podium-prod", "private_key_id": "'
            + _rand(_HEX, 40, 52)
            + '", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
            + PEM_BODY.replace('\n', '\\n')
            + '\\n-----END PRIVATE KEY-----\\n", "client_email": "bot@podium-prod.iam.gserviceaccount.com"}'
        ),
        secret=PEM_BODY.split('\n')[2],
    ),
    # Azure
    Secret(
        kind='azure storage connection string',
        text=(
            'DefaultEndpointsProtocol=https;AccountName=podiumlogs;'
            f'AccountKey={AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net'
        ),
        secret=AZURE_ACCOUNT_KEY,
    ),
    Secret(
        kind='azure sas token',
        text=(
            'GET https://podiumlogs.blob.core.windows.net/exports/r.json?sv=2022-11-02&ss=b&srt=o&sp=r'
            f'&se=2024-04-01T00:00:00Z&sig={AZURE_SAS_SIG} -> 403 AuthenticationFailed'
        ),
        secret=AZURE_SAS_SIG,
    ),
    Secret(kind='azure client secret', text=f'AZURE_CLIENT_SECRET={AZURE_CLIENT_SECRET}', secret=AZURE_CLIENT_SECRET),
    Secret(
        kind='azure client secret',
        text=f'the app registration secret is {AZURE_CLIENT_SECRET} until June',
        secret=AZURE_CLIENT_SECRET,
    ),
    # Payment, chat, code hosting, package registries
    Secret(
        kind='stripe key',
        text=f'stripe.error.AuthenticationError: Invalid API Key provided: {STRIPE_LIVE}',
        secret=STRIPE_LIVE,
    ),
    Secret(kind='stripe key', text=f'STRIPE_RESTRICTED={STRIPE_RESTRICTED}', secret=STRIPE_RESTRICTED),
    Secret(
        kind='stripe webhook secret',
        text=f'endpoint secret {STRIPE_WEBHOOK} does not match the signature',
        secret=STRIPE_WEBHOOK,
    ),
    Secret(kind='slack token', text=f'slack_sdk: invalid_auth for token {SLACK_BOT}', secret=SLACK_BOT),
    Secret(kind='slack token', text=f'"user_token": "{SLACK_USER}"', secret=SLACK_USER),
    Secret(
        kind='slack webhook',
        text=f'posting to https://hooks.slack.com/services/{SLACK_HOOK} failed: 404',
        secret=SLACK_HOOK,
    ),
    Secret(kind='github token', text=f'git clone https://{GITHUB_PAT}@github.com/acme/billing.git', secret=GITHUB_PAT),
    Secret(kind='github token', text=f'Bad credentials for {GITHUB_FINE} (HTTP 401)', secret=GITHUB_FINE),
    Secret(kind='github token', text=f'gh auth status: Token: {GITHUB_OAUTH}', secret=GITHUB_OAUTH),
    Secret(
        kind='gitlab token',
        text=f'curl --header "PRIVATE-TOKEN: {GITLAB_PAT}" https://gitlab.example.com/api/v4/projects',
        secret=GITLAB_PAT,
    ),
    Secret(
        kind='gitlab token',
        text=f'remote: https://gitlab+deploy-token-7:{GITLAB_DEPLOY}@gitlab.example.com/acme/app.git',
        secret=GITLAB_DEPLOY,
    ),
    Secret(kind='sendgrid key', text=f'mail not sent, SendGrid rejected {SENDGRID}', secret=SENDGRID),
    Secret(kind='npm token', text=f'//registry.npmjs.org/:_authToken={NPM}', secret=NPM),
    Secret(kind='npm token', text=f'my npm token {NPM} stopped working yesterday', secret=NPM),
    Secret(kind='pypi token', text=f'twine upload failed with password {PYPI}', secret=PYPI),
    Secret(kind='huggingface token', text=f'HfHubHTTPError 401 for {HUGGINGFACE}', secret=HUGGINGFACE),
    Secret(kind='digitalocean token', text=f'doctl auth init -t {DIGITALOCEAN}', secret=DIGITALOCEAN),
    Secret(kind='shopify token', text=f'X-Shopify-Access-Token: {SHOPIFY}', secret=SHOPIFY),
    Secret(
        kind='telegram bot token',
        text=f'https://api.telegram.org/bot{TELEGRAM}/sendMessage returned 401',
        secret=TELEGRAM,
    ),
    # Model providers
    Secret(
        kind='openai key',
        text=(
            "openai.AuthenticationError: Error code: 401 - {'error': {'message': "
            f"'Incorrect API key provided: {OPENAI_PROJECT}.'}}}}"
        ),
        secret=OPENAI_PROJECT,
    ),
    Secret(
        kind='openai key',
        text=f'Hi, I pasted {OPENAI_LEGACY} into the settings page and nothing happens',
        secret=OPENAI_LEGACY,
    ),
    Secret(
        kind='anthropic key', text=f'anthropic.AuthenticationError: invalid x-api-key {ANTHROPIC}', secret=ANTHROPIC
    ),
    Secret(kind='anthropic key', text=f'ANTHROPIC_API_KEY="{ANTHROPIC}"', secret=ANTHROPIC),
    # Tokens and keys by format
    Secret(kind='jwt', text=f'the id_token in the callback was {JWT} and it failed validation', secret=JWT),
    Secret(kind='jwt', text=f'{{"detail": "Signature has expired", "jwt": "{JWT}"}}', secret=JWT),
    Secret(
        kind='pem private key',
        text=f'deploy key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----\nthanks',
        secret=PEM_BODY.split('\n')[3],
    ),
    Secret(
        kind='pem private key',
        text=f'-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n-----END EC PRIVATE KEY-----',
        secret=PEM_BODY.split('\n')[0],
    ),
    Secret(
        kind='pem private key',
        text=f'the log cut it off: -----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY[:150]}',
        secret=PEM_BODY[:64],
    ),
    # URLs with credentials
    Secret(
        kind='url credentials',
        text='sqlalchemy: could not connect to postgresql://billing:Tr0ub4dor&3x@db.internal:5432/billing',
        secret='Tr0ub4dor&3x',
    ),
    Secret(kind='url credentials', text='REDIS_URL=redis://:kT9vQ2mZpL@cache.internal:6379/0', secret='kT9vQ2mZpL'),
    Secret(
        kind='url credentials',
        text='MONGO_URI="mongodb+srv://app:s3cr3tMongo!@cluster0.ab1cd.mongodb.net/prod"',
        secret='s3cr3tMongo!',
    ),
    Secret(
        kind='url credentials',
        text='amqp://podium:rabbit-Pa55@mq.internal:5672/ refused the connection',
        secret='rabbit-Pa55',
    ),
    # Authorization with any scheme
    Secret(
        kind='authorization header',
        text='Authorization: Bearer abcdefghijklmnopQRSTUVWXyz\r\nAccept: */*',
        secret='abcdefghijklmnopQRSTUVWXyz',
    ),
    Secret(kind='authorization header', text=f'authorization: Basic {BASIC}', secret=BASIC),
    Secret(
        kind='authorization header',
        text='Authorization: SSWS 00QCjAl4MlV-WPXM-ABCDEFGHIJ_klmnopqrstu',
        secret='00QCjAl4MlV-WPXM-ABCDEFGHIJ_klmnopqrstu',
    ),
    Secret(
        kind='authorization header',
        text='Authorization: ApiKey dGhpc2lzbXlrZXk6c2VjcmV0dmFsdWU=',
        secret='dGhpc2lzbXlrZXk6c2VjcmV0dmFsdWU=',
    ),
    Secret(
        kind='authorization header',
        text="request headers: {'Authorization': 'Klaviyo-API-Key pk_9f8e7d6c5b4a39281706f5e4d3c2b1a0'}",
        secret='pk_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
    ),
    Secret(
        kind='authorization header',
        text='Proxy-Authorization: Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEF',
        secret='YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEF',
    ),
    Secret(
        kind='bearer token',
        text='curl -H "Authorization: Bearer opaqueTokenWithoutAnyDigits" https://api.example.com/v1/me',
        secret='opaqueTokenWithoutAnyDigits',
    ),
    Secret(kind='bearer token', text='sent with bearer mF_9.B5f-4.1JqM and got 401', secret='mF_9.B5f-4.1JqM'),
    # Cookies and sessions
    Secret(
        kind='cookie', text=f'Cookie: sessionid={SESSION}; csrftoken=Zx8Yv7Wu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed', secret=SESSION
    ),
    Secret(
        kind='cookie',
        text='Set-Cookie: _gh_sess=Y2FudCB0b3VjaCB0aGlz%3D%3D--a1b2c3d4; path=/; secure; HttpOnly',
        secret='Y2FudCB0b3VjaCB0aGlz%3D%3D--a1b2c3d4',
    ),
    Secret(kind='session id', text=f'I got logged out again, my sessionid={SESSION} if that helps', secret=SESSION),
    Secret(
        kind='session id',
        text='JSESSIONID=9A1F3C2B7D8E6F5A4B3C2D1E0F9A8B7C; Path=/app',
        secret='9A1F3C2B7D8E6F5A4B3C2D1E0F9A8B7C',
    ),
    Secret(kind='session id', text='PHPSESSID: 6q2t8v4l1k9m3n7b5c0x2z4a6s', secret='6q2t8v4l1k9m3n7b5c0x2z4a6s'),
    # Names with values, in each case style
    Secret(kind='snake case name', text='db_password=Winter2024!Sales host=db.internal', secret='Winter2024!Sales'),
    Secret(
        kind='snake case name', text="settings: {'smtp_password': 'p@ssW0rd-smtp', 'port': 587}", secret='p@ssW0rd-smtp'
    ),
    Secret(kind='camel case name', text='{"dbPassword": "Hunter2-prod", "dbUser": "billing"}', secret='Hunter2-prod'),
    Secret(
        kind='camel case name',
        text='apiSecret=4f9d2c7a1b8e6f3d0c5a9b2e7f1d4c8a',
        secret='4f9d2c7a1b8e6f3d0c5a9b2e7f1d4c8a',
    ),
    Secret(
        kind='camel case name',
        text='new Client({ clientId: "podium", clientSecret: "qW3rTy-uI0p-AsDf" })',
        secret='qW3rTy-uI0p-AsDf',
    ),
    Secret(
        kind='camel case name',
        text='refreshToken: 1//0gLm3Q9dXyZ-AbCdEfGhIjKlMnOpQrStUvWxYz',
        secret='1//0gLm3Q9dXyZ-AbCdEfGhIjKlMnOpQrStUvWxYz',
    ),
    Secret(
        kind='kebab case name',
        text='x-api-key: 3c1f6e0b9a8d7c2e5f4a1b0c9d8e7f6a',
        secret='3c1f6e0b9a8d7c2e5f4a1b0c9d8e7f6a',
    ),
    Secret(kind='kebab case name', text='--db-password=Sup3r-Secret --port 5432', secret='Sup3r-Secret'),
    Secret(kind='kebab case name', text='x-auth-token: 7Hj2Kl9Mn4Pq8Rs1Tv6Wx3Yz', secret='7Hj2Kl9Mn4Pq8Rs1Tv6Wx3Yz'),
    Secret(kind='upper case name', text='DB_PASS=correcthorsebatterystaple', secret='correcthorsebatterystaple'),
    Secret(
        kind='upper case name',
        text='MAILGUN_KEY=key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
        secret='key-3ax6xnjp29jd6fds4gc373sgvjxteol0',
    ),
    Secret(
        kind='upper case name',
        text='DJANGO_SECRET_KEY=django-insecure-k9#x!2m@v8q$w4e',
        secret='django-insecure-k9#x!2m@v8q$w4e',
    ),
    Secret(kind='upper case name', text='PGPASSWORD=billing-ro-2024 psql -h db.internal', secret='billing-ro-2024'),
    Secret(
        kind='connection string',
        text='Server=tcp:sql.example.net,1433;User ID=sa;Password=Pl3aseChangeMe;Encrypt=True;',
        secret='Pl3aseChangeMe',
    ),
    # YAML and JSON
    Secret(
        kind='yaml',
        text='database:\n  user: billing\n  password: "Sp1ng-Sh1ne"\n  host: db.internal',
        secret='Sp1ng-Sh1ne',
    ),
    Secret(kind='yaml', text='smtp:\n  password:\n    Gr33n-Fields-44\n  port: 587', secret='Gr33n-Fields-44'),
    Secret(
        kind='yaml', text='vault:\n  token: >-\n    hvs.CAESIJk3bXlUb2tlbkhlcmU\n', secret='hvs.CAESIJk3bXlUb2tlbkhlcmU'
    ),
    Secret(
        kind='json', text='{"username": "ops", "password": "Blue-Moon-77", "remember": true}', secret='Blue-Moon-77'
    ),
    Secret(
        kind='json',
        text='{"credentials": {"access_token": "at-9Zy8Xw7Vu6Ts5Rq4", "expires_in": 3600}}',
        secret='at-9Zy8Xw7Vu6Ts5Rq4',
    ),
    Secret(
        kind='escaped json',
        text='body: "{\\"api_key\\": \\"live-8Kd0Qm3Zx7\\", \\"model\\": \\"gpt-4o\\"}"',
        secret='live-8Kd0Qm3Zx7',
    ),
    Secret(
        kind='escaped json',
        text='{"log": "{\\\\\\"password\\\\\\": \\\\\\"Nested-Pass-42\\\\\\", \\\\\\"user\\\\\\": \\\\\\"ops\\\\\\"}"}',
        secret='Nested-Pass-42',
    ),
    Secret(
        kind='escaped json',
        text='"{\\"headers\\": {\\"Authorization\\": \\"Token 0f9e8d7c6b5a4f3e2d1c\\"}}"',
        secret='0f9e8d7c6b5a4f3e2d1c',
    ),
)


_FIRST = ('Hi', 'Hello', 'Hey team', 'Good morning', 'Dear support', 'Hi there', 'Hello again')
_TEMPLATES = (
    'invoice {invoice} was charged twice on {date}, {price} each. Can you refund one?',
    'order {order} has not shipped yet, tracking says {tracking} since {date}.',
    'the request id on the error page was {uuid}, it happened at {time} UTC.',
    'please change the button colour to {colour} and the border to {colour2} on the checkout page.',
    'we rolled back to commit {sha} because {sha_short} broke the export, see PR #{pr}.',
    'my plan renews on {date} at {price}; I expected {price2} after the discount code {coupon}.',
    'customer {customer} reports that report {report} shows {count} rows instead of {count2}.',
    'the token count for run {uuid} was {count} input and {count2} output tokens, max_tokens={count3}.',
    'I forgot my password and the reset link in ticket {ticket} expired. Can you send a new one?',
    'is the API key for the sandbox different from production? Our account is {account}.',
    'after upgrading to v{version} the session timed out after {minutes} minutes instead of {minutes2}.',
    'refund {refund} for {price} was approved on {date}; reference {reference}.',
    'the webhook for event {event} returned 500 at {time}; payload size {count} bytes.',
    'please merge {sha} into release/{version} before {date}, it fixes ticket {ticket}.',
    'the hex value {colour} renders as {colour2} in Safari; screenshot at https://cdn.example.com/s/{order}.png',
    'card ending {last4} declined for invoice {invoice} ({price}), bank code {code}.',
    'key: {word}, value: {count}; the settings page shows status={word2} and mode=auto.',
    'our build {build} on branch feature/{word} fails at step {count} with exit code {code}.',
    'shipment {tracking} weighs {weight} kg and costs {price} to {city}.',
    'phone me at +44 20 7946 {phone} between {time} and {time2}, ref {reference}.',
    'the bearer of this note, {name}, may collect order {order} on {date}.',
    'SKU {sku} is out of stock; {count} units expected on {date} at warehouse {city}.',
    'dashboard {uuid} loads in {ms} ms, p99 {ms2} ms, since deploy {sha_short}.',
    'see https://status.example.com/incidents/{incident}?from={date}&to={date2} for the outage.',
    'user {name} (id {customer}) cannot log in since {date}; two-factor codes arrive late.',
)
_WORDS = ('billing', 'export', 'search', 'checkout', 'invoices', 'reports', 'pricing', 'onboarding', 'alerts')
_NAMES_ = ('Alice Martin', 'Bob Chen', 'Carla Diaz', 'Deepa Rao', 'Erik Larsen', 'Fatima Noor', 'Gus Ward')
_CITIES = ('Leeds', 'Lyon', 'Porto', 'Osaka', 'Austin', 'Gdansk', 'Nairobi')


def _ordinary(count: int, seed: int) -> tuple[str, ...]:
    pick = random.Random(seed)

    def digits(n: int) -> str:
        return ''.join(pick.choice(string.digits) for _ in range(n))

    def hexes(n: int) -> str:
        return ''.join(pick.choice(_HEX) for _ in range(n))

    def date() -> str:
        return f'2024-{pick.randint(1, 12):02}-{pick.randint(1, 28):02}'

    def uuid() -> str:
        return f'{hexes(8)}-{hexes(4)}-4{hexes(3)}-a{hexes(3)}-{hexes(12)}'

    messages: list[str] = []
    for _ in range(count):
        values = {
            'invoice': f'INV-{pick.randint(2020, 2025)}-{digits(5)}',
            'order': f'ORD-{digits(8)}',
            'tracking': f'1Z{pick.choice("ABCDEFXY")}{digits(3)}{pick.choice("EFHX")}{digits(10)}',
            'date': date(),
            'date2': date(),
            'price': f'${pick.randint(5, 999)}.{digits(2)}',
            'price2': f'EUR {pick.randint(5, 999)},{digits(2)}',
            'uuid': uuid(),
            'time': f'{pick.randint(0, 23):02}:{pick.randint(0, 59):02}',
            'time2': f'{pick.randint(0, 23):02}:{pick.randint(0, 59):02}',
            'colour': f'#{hexes(6)}',
            'colour2': f'#{hexes(3).upper()}',
            'sha': hexes(40),
            'sha_short': hexes(7),
            'pr': digits(4),
            'coupon': f'SPRING{digits(2)}',
            'customer': f'cus_{"".join(pick.choice(_B62) for _ in range(14))}',
            'report': f'RPT-{digits(6)}',
            'count': str(pick.randint(1, 50000)),
            'count2': str(pick.randint(1, 50000)),
            'count3': str(pick.choice((256, 1024, 4096))),
            'ticket': f'SUP-{digits(5)}',
            'account': f'acct_{digits(9)}',
            'version': f'{pick.randint(1, 9)}.{pick.randint(0, 30)}.{pick.randint(0, 9)}',
            'minutes': str(pick.randint(5, 30)),
            'minutes2': str(pick.randint(31, 120)),
            'refund': f're_{"".join(pick.choice(_B62) for _ in range(24))}',
            'reference': f'REF{digits(10)}',
            'event': f'evt_{"".join(pick.choice(_B62) for _ in range(24))}',
            'last4': digits(4),
            'code': str(pick.choice((5, 14, 51, 54, 61, 65, 91))),
            'word': pick.choice(_WORDS),
            'word2': pick.choice(('active', 'paused', 'trial', 'archived')),
            'build': f'#{digits(5)}',
            'weight': f'{pick.randint(1, 40)}.{digits(1)}',
            'city': pick.choice(_CITIES),
            'phone': digits(4),
            'name': pick.choice(_NAMES_),
            'sku': f'SKU-{"".join(pick.choice(_UP) for _ in range(6))}',
            'ms': str(pick.randint(80, 900)),
            'ms2': str(pick.randint(900, 9000)),
            'incident': hexes(12),
        }
        body = pick.choice(_TEMPLATES).format(**values)
        messages.append(f'{pick.choice(_FIRST)}, {body} Thanks, {pick.choice(_NAMES_).split()[0]}')
    return tuple(messages)


ORDINARY = _ordinary(1000, seed=20240311)
