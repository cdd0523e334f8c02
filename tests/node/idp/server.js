// A real OpenID provider for Portico's tests: npm oidc-provider v9 with its built-in login and consent pages.
//
// Configuration is JSON, read from the file named by argv[2] or else from the PORTICO_IDP_CONFIG env var:
//   {"issuer": "http://127.0.0.1:PORT", "port": PORT,
//    "clients": [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]}]}
// A client entry may carry any oidc-provider client metadata; grant_types, response_types and
// token_endpoint_auth_method get defaults (client_secret_basic with a secret, none without).
//
// The login name chooses the user (any password is accepted):
//   alice                   -> alice@example.com, email_verified true, hd example.com
//   bob@corp.example        -> the email verbatim, hd corp.example (no hd for gmail.com, as Google does)
//   unverified...           -> email_verified false
//   eng...                  -> groups ["engineering"] (otherwise [])
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

function readConfig() {
  const source = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : process.env.PORTICO_IDP_CONFIG;
  if (!source) {
    throw new Error('no configuration: pass a JSON file path as argument or set PORTICO_IDP_CONFIG');
  }
  return JSON.parse(source);
}

export function claimsFor(login) {
  const email = login.includes('@') ? login : `${login}@example.com`;
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  const claims = {
    sub: login,
    email,
    email_verified: !login.startsWith('unverified'),
    name: login,
    preferred_username: login,
    groups: login.startsWith('eng') ? ['engineering'] : [],
  };
  if (domain !== 'gmail.com') {
    claims.hd = domain;
  }
  return claims;
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'ec-1', use: 'sig', alg: 'ES256' }] };
}

function clientMetadata(client) {
  return {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.client_secret ? 'client_secret_basic' : 'none',
    ...client,
  };
}

const config = readConfig();
const host = config.host ?? '127.0.0.1';

const provider = new Provider(config.issuer, {
  clients: (config.clients ?? []).map(clientMetadata),
  jwks: signingKeys(),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified', 'hd'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Revocation (RFC 7009) for tests of Portico as an OAuth client; sign-in tests do not use it.
  // Optional: {"rotateRefreshToken": true} rotates refresh tokens of every client (reuse then revokes the grant).
  ...(config.rotateRefreshToken !== undefined ? { rotateRefreshToken: config.rotateRefreshToken } : {}),
  features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
  async findAccount(ctx, id) {
    return { accountId: id, claims: async () => claimsFor(id) };
  },
});

// A request without any scope would end in access_denied; real IdPs are kinder, default it to openid.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth' && !ctx.query.scope) {
    ctx.query = { ...ctx.query, scope: 'openid' };
  }
  await next();
});

const server = provider.listen(config.port, host, () => {
  console.log(`oidc-provider ${config.issuer} listening on ${host}:${config.port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
