import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ldapDetector as d } from '../src/detect/detect-ldap.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('LDAP injection detector', () => {
  const attacks = [
    '*)(uid=*))(|(uid=*',
    'admin)(&)',
    'printer)(uid=*)',
    'void)(objectClass=users))(&(objectClass=void)',
    'eb9adbd87d)!(sn=*',
    'aaa*aaa)(cn>=bob)',
    'value)(gidNumber<=100',
    'john)(sn~=smith',
    'admin)(|',
    'val)&(cn=admin',
    'test) ( & ',
    'admin*)((|userPassword=*)',
    'value%29%28uid%3D%2A',
  ];
  for (const value of attacks) {
    it(`flags ${value}`, () => assert.deepEqual(rulesFor(d, value), ['ST-LDAP-001']));
  }
  const benign = [
    '(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))',
    '(objectSID=S-1-5-21-73586283-152049171-839522115-1111)',
    '(a+b)*c',
    '(1+2)+(3+4)',
    'Thanks :) (really)',
    'see note 1) (and 2)',
    'user@example.com',
    'foo|bar',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of parentheses', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile(')('))));
    assert.ok(Array.isArray(inspectValue(d, hostile('('))));
  });
});
