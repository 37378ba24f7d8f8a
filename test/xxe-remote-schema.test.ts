import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xxeDetector } from '../src/detect/detect-xxe.js';
import { remoteSchemaLocations } from '../src/detect/xxe-remote-schema.js';
import { inspectValue, rulesFor } from './helpers/detect-point.js';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
// Burp Scanner's out-of-band probe, as in CRS 941130.
const PROBE = `<aai xmlns="http://a.b/" ${XSI} xsi:schemaLocation="http://a.b/ http://c5ipg3yq.oast.example/aai.xsd">aai</aai>`;

describe('remote XML schema locations (ST-XXE-008)', () => {
  it('flags a schema on another domain than its namespace, in a parameter', () => {
    const hit = inspectValue(xxeDetector, PROBE, { location: 'body.form.var' }).find((h) => h.ruleId === 'ST-XXE-008');
    assert.ok(hit);
    assert.equal(hit.confidence, 0.7);
    assert.match(hit.fragment, /^xsi:schemaLocation=/);
    // A line break between the tag name and its attributes changes nothing.
    assert.ok(rulesFor(xxeDetector, PROBE.replace('<aai ', '<aai\n')).includes('ST-XXE-008'));
  });

  it('flags local schemas, and a remote schema without a namespace only at high sensitivity', () => {
    const local = `<r ${XSI} xsi:noNamespaceSchemaLocation="file:///etc/passwd"/>`;
    assert.equal(remoteSchemaLocations(local)[0]?.confidence, 0.8);
    const bare = `<r ${XSI} xsi:noNamespaceSchemaLocation="http://203.0.113.9/r.xsd"/>`;
    assert.deepEqual(rulesFor(xxeDetector, bare), []);
    assert.ok(rulesFor(xxeDetector, bare, { sensitivity: 'high' }).includes('ST-XXE-008'));
  });

  it('leaves schemas published next to their namespace, and unbound prefixes, alone', () => {
    const pom =
      `<project xmlns="http://maven.apache.org/POM/4.0.0" ${XSI} ` +
      'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">';
    assert.deepEqual(remoteSchemaLocations(pom), []);
    const wfs =
      `<wfs:GetFeature ${XSI} xsi:schemaLocation="http://www.opengis.net/wfs ` +
      'http://schemas.opengis.net/wfs/1.1.0/wfs.xsd"/>';
    assert.deepEqual(remoteSchemaLocations(wfs), []);
    // No xmlns:xsi binding: not a schema-instance attribute.
    assert.deepEqual(remoteSchemaLocations(PROBE.replace(XSI, '')), []);
    // Prose about the attribute.
    assert.deepEqual(rulesFor(xxeDetector, 'set xsi:schemaLocation="a b" on the <root> element'), []);
  });
});
