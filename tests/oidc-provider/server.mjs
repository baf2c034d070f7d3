// A real OpenID Connect provider (panva's oidc-provider, OpenID Certified) on loopback, configured
// like eSignet, for Doorstep's sign-in tests. Headless: the login and consent steps complete
// themselves for the account named by `login_hint`, so a test's "browser" only follows redirects.
//
// Usage: node server.mjs [--port N] [--client-jwks FILE] [--auto-login ACCOUNT]
//   --port         port on 127.0.0.1 (default 0: any free port)
//   --auto-login   log in as ACCOUNT when the request has no login_hint (a browser the test cannot
//                  drive, such as the kiosk's sign-in window); each login step prints `login-step`
//   --client-jwks  JSON file with the public JWKS of the eSignet-like clients: the registry's
//                  private_key_jwt key (use: sig) and its userinfo decryption key (use: enc).
//                  Without it those clients are not registered.
// Prints one JSON line on stdout once listening: {"issuer": "http://127.0.0.1:PORT", ...}.
// Exits when stdin closes, so a test that dies does not leave a provider behind (unless
// --keep-running: `./dev run` stops it by its process id).
//
// Clients:
//   doorstep-esignet  private_key_jwt at the token endpoint, PKCE (S256) required, signed userinfo
//                     (RS256), claims parameter; like an eSignet relying party.
//   doorstep-esignet-jwe  the same, with userinfo signed (RS256) and then encrypted to the
//                     client's use: enc key (RSA-OAEP-256, A256GCM): eSignet's encrypted userinfo.
//   doorstep-public   public native client (token_endpoint_auth_method none), PKCE required.
// Accounts (login_hint): "person-1" (a citizen, full claims), "agent-1" (a field agent in area
// KE.30: registry tokens carry roles and area), "admin-1" and "staff-1" (no role claim: the
// registry's staff directory gives the role), "person-2" (another citizen, for tests of a check
// answered by the wrong person); "cancel" makes the provider answer error=access_denied, as when
// a person cancels.
// Authentication context (acr): the login step vouches for the first of the request's
// acr_values (default mosip:idp:acr:password), as eSignet does once the person passes that
// method; a login_hint suffix forces another, weaker one: "person-1:password" logs in with
// mosip:idp:acr:password whatever was asked (a person who could not do the biometric check).
// Access tokens requested with `resource=urn:doorstep:registry` are JWTs with
// aud "doorstep-registry" (what the registry's [auth] section checks); others are opaque and
// work at the userinfo endpoint (oidc-provider refuses audience-bound tokens there).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-jwks': { type: 'string' },
    'auto-login': { type: 'string' },
    'keep-running': { type: 'boolean', default: false },
  },
});

export const REGISTRY_RESOURCE = 'urn:doorstep:registry';
export const REGISTRY_AUDIENCE = 'doorstep-registry';

const ACCOUNTS = {
  'person-1': {
    individual_id: '4918273645',
    name: 'Amina Njoroge',
    birthdate: '1988-04-12',
    phone_number: '+254712345678',
  },
  // Another citizen, registered nowhere by default.
  'person-2': {
    individual_id: '5550001112',
    name: 'Jabari Mwangi',
    birthdate: '1979-09-30',
    phone_number: '+254722000111',
  },
  // A field agent: registry tokens carry the role and the admin area they serve.
  'agent-1': {
    name: 'Otieno Ouma (field agent)',
    registry_claims: { roles: ['agent'], area: 'KE.30' },
  },
  // Someone the registry's staff directory makes an administrator (no role claim: run as a
  // staff provider, whose role claims the registry does not believe, roles come from the directory).
  'admin-1': {
    name: 'Achieng Wambui (registry administrator)',
    email: 'achieng@ministry.example',
    email_verified: true,
  },
  // A review officer, made staff by the directory the same way.
  'staff-1': {
    name: 'Baraka Otieno (review officer)',
    email: 'baraka@ministry.example',
    email_verified: true,
  },
};

const ACR_VALUES = [
  'mosip:idp:acr:generated-code',
  'mosip:idp:acr:password',
  'mosip:idp:acr:biometrics',
  'mosip:idp:acr:linked-wallet',
  'mosip:idp:acr:knowledge',
];

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomUUID()}`, use: 'sig', alg: 'RS256' };
}

const clients = [
  {
    client_id: 'doorstep-public',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
];
if (args['client-jwks']) {
  const esignet = {
    client_id: 'doorstep-esignet',
    application_type: 'native',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: JSON.parse(readFileSync(args['client-jwks'], 'utf8')),
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    userinfo_signed_response_alg: 'RS256',
    id_token_signed_response_alg: 'RS256',
  };
  clients.push(esignet, {
    ...esignet,
    client_id: 'doorstep-esignet-jwe',
    userinfo_encrypted_response_alg: 'RSA-OAEP-256',
    userinfo_encrypted_response_enc: 'A256GCM',
  });
}

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomUUID()] },
  acrValues: ACR_VALUES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'birthdate'],
    phone: ['phone_number'],
    individual_id: null,
    name: null,
    birthdate: null,
    phone_number: null,
  },
  clientAuthMethods: ['none', 'private_key_jwt'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    jwtUserinfo: { enabled: true },
    encryption: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== REGISTRY_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'openid',
          audience: REGISTRY_AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The registry links a citizen by this claim; eSignet-issued tokens carry it when released.
  extraTokenClaims: async (_ctx, token) => {
    const account = ACCOUNTS[token.accountId];
    if (!account) return undefined;
    const { individual_id, registry_claims } = account;
    return { ...(individual_id ? { individual_id } : {}), ...(registry_claims ?? {}) };
  },
  findAccount: async (_ctx, id) => {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    const { registry_claims: _registryOnly, ...claims } = account;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
});

// Without login_hint (a person at a real browser: `./dev run`, the kiosk window) the login step
// is a one-button page per test account, and a Cancel button.
function loginPage(res, uid) {
  const buttons = Object.entries(ACCOUNTS)
    .map(([id, a]) => `<button type="submit" name="account" value="${id}">Sign in as ${a.name}</button>`)
    .join('\n');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo ID provider</title>
<style>body{font:18px system-ui,sans-serif;max-width:30rem;margin:3rem auto}button{display:block;width:100%;min-height:48px;margin:.5rem 0;font-size:1rem}</style></head>
<body><h1>Demo ID provider</h1><p>A test identity provider for Doorstep. Choose who to sign in as.</p>
<form method="post" action="/interaction/${uid}/login">${buttons}
<button type="submit" name="account" value="cancel">Cancel</button></form></body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

// The login and consent steps: no form when login_hint names the account (headless tests).
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login' && !params.login_hint && !args['auto-login'] && req.method === 'GET') {
    loginPage(res, details.uid);
    return;
  }
  if (prompt.name === 'login') {
    const asked =
      req.method === 'POST' ? (await readForm(req)).get('account') : (params.login_hint ?? args['auto-login']);
    // "person-1:password": the account, and the method it signs in with.
    const [hint, method] = String(asked ?? '').split(':');
    // Tests count these lines: a sign-in that needed no login step reused a session cookie.
    console.error(`login-step ${hint}`);
    if (hint === 'cancel' || !ACCOUNTS[hint]) {
      result = {
        error: 'access_denied',
        error_description: hint === 'cancel' ? 'The person cancelled the sign-in.' : `no test account "${hint}"`,
      };
    } else {
      const acr = method ? `mosip:idp:acr:${method}` : (params.acr_values || 'mosip:idp:acr:password').split(' ')[0];
      if (!ACR_VALUES.includes(acr)) throw new Error(`no authentication method ${acr}`);
      result = { login: { accountId: hint, acr, amr: ['pwd'] } };
    }
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: `unexpected prompt ${prompt.name}` };
  }
  // Merged, so the consent step keeps the login result (prompt=login checks it).
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if ((req.method === 'GET' || req.method === 'POST') && req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain');
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  callback(req, res);
});

provider.on('server_error', (_ctx, err) => console.error('provider server_error', err));

process.stdout.write(`${JSON.stringify({ issuer, resource: REGISTRY_RESOURCE, audience: REGISTRY_AUDIENCE })}\n`);
if (!args['keep-running']) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
