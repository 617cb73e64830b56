// A Sigstore TEST DOUBLE for mlprov's keyless-signing tests: Fulcio and Rekor v1 served on 127.0.0.1
// by the handlers of npm's @sigstore/mock (fresh in-memory CA, CT log and transparency log keys).
// It prints one JSON line: {"url": ..., "trust_config": <a Sigstore ClientTrustConfig for it>}.
// Never use it for anything but tests: it signs any token it is given without checking it.
'use strict';

const crypto = require('crypto');
const http = require('http');
const mock = require('@sigstore/mock');
const { generateKeyPair } = require('@sigstore/mock/dist/util/key');

// Real Rekor stores a dsse/0.0.1 entry in canonical form (hashes and signatures, not the envelope);
// @sigstore/mock logs the proposed entry as sent, which sigstore-python's verifier rejects.
function canonicalDsse(proposed) {
  const content = proposed.spec.proposedContent;
  const envelope = JSON.parse(content.envelope);
  const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
  return {
    apiVersion: proposed.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((s, i) => ({ signature: s.sig, verifier: content.verifiers[i] || content.verifiers[0] })),
    },
  };
}

function spki(publicKeyDer) {
  return {
    rawBytes: Buffer.from(publicKeyDer).toString('base64'),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    validFor: { start: '2000-01-01T00:00:00Z' },
  };
}

async function main() {
  const ctKeys = generateKeyPair('prime256v1');
  const caKeys = generateKeyPair('prime256v1');
  const tlogKeys = generateKeyPair('prime256v1');
  const ctlog = await mock.initializeCTLog(ctKeys);
  const ca = await mock.initializeCA(caKeys, ctlog);

  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const tlog = await mock.initializeTLog(url, tlogKeys);
  const fulcio = mock.fulcioHandler(ca);

  server.on('request', (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      let result;
      try {
        if (req.method === 'POST' && req.url === fulcio.path) {
          // Fulcio's v2 API takes the CSR as base64 of its PEM and the token as a bearer header (or in
          // the body); the mock handler wants both in the body, the CSR as PEM.
          const request = JSON.parse(body);
          const bearer = (req.headers.authorization || '').replace(/^Bearer /, '');
          if (!request.credentials && bearer) request.credentials = { oidcIdentityToken: bearer };
          if (request.certificateSigningRequest && !request.certificateSigningRequest.startsWith('-----')) {
            request.certificateSigningRequest = Buffer.from(request.certificateSigningRequest, 'base64').toString();
          }
          result = await fulcio.fn(JSON.stringify(request));
        } else if (req.method === 'POST' && req.url === '/api/v1/log/entries') {
          const proposed = JSON.parse(body);
          const entry = await tlog.log(proposed.kind === 'dsse' ? canonicalDsse(proposed) : proposed);
          result = { statusCode: 201, response: JSON.stringify(entry), contentType: 'application/json' };
        } else {
          result = { statusCode: 404, response: `no test-double route for ${req.method} ${req.url}` };
        }
      } catch (e) {
        result = { statusCode: 400, response: String(e && e.message) };
      }
      res.writeHead(result.statusCode, { 'Content-Type': result.contentType || 'text/plain' });
      res.end(result.response);
    });
  });

  const validFor = { start: '2000-01-01T00:00:00Z' };
  const tlogKeyDer = tlogKeys.publicKey.export({ format: 'der', type: 'spki' });
  const ctKeyDer = ctKeys.publicKey.export({ format: 'der', type: 'spki' });
  const trustConfig = {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: spki(tlogKeyDer),
        logId: { keyId: crypto.createHash('sha256').update(tlogKeyDer).digest('base64') },
      }],
      certificateAuthorities: [{
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: ca.rootCertificate.toString('base64') }] },
        validFor,
      }],
      ctlogs: [{
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: spki(ctKeyDer),
        logId: { keyId: Buffer.from(ctlog.logID.buffer ? new Uint8Array(ctlog.logID.buffer) : ctlog.logID).toString('base64') },
      }],
      timestampAuthorities: [],
    },
    signingConfig: {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [{ url, majorApiVersion: 1, validFor, operator: 'mlprov-test-double' }],
      oidcUrls: [{ url, majorApiVersion: 1, validFor, operator: 'mlprov-test-double' }],
      rekorTlogUrls: [{ url, majorApiVersion: 1, validFor, operator: 'mlprov-test-double' }],
      tsaUrls: [],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    },
  };
  process.stdout.write(JSON.stringify({ url, trust_config: trustConfig }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`test double failed to start: ${e && e.stack}\n`);
  process.exit(1);
});
