import { describe, expect, it } from 'vitest';
import { classifyEvent, eventName } from '../../src/dmm/event-types.js';
import { type EventFormatError, readEventBatch } from '../../src/dmm/read-events.js';

describe('eventName', () => {
  it('takes the name after the last dot, whatever the prefix', () => {
    expect(eventName('com.datamesh-manager.events.AccessActivatedEvent')).toBe('AccessActivatedEvent');
    expect(eventName('com.entropy-data.events.AccessActivatedEvent')).toBe('AccessActivatedEvent');
    expect(eventName('AccessActivatedEvent')).toBe('AccessActivatedEvent');
  });
});

describe('classifyEvent', () => {
  it.each([
    ['com.datamesh-manager.events.AccessActivatedEvent', 'agreement', 'AccessActivatedEvent'],
    ['com.entropy-data.events.AccessDeactivatedEvent', 'agreement', 'AccessDeactivatedEvent'],
    ['org.example.AccessCanceledEvent', 'agreement', 'AccessCanceledEvent'],
    ['com.datamesh-manager.events.DataUsageAgreementActivatedEvent', 'agreement', 'DataUsageAgreementActivatedEvent'],
    ['com.datamesh-manager.events.DataUsageAgreementDeletedEvent', 'agreement', 'DataUsageAgreementDeletedEvent'],
    ['com.entropy-data.events.DataProductUpdatedEvent', 'dataProduct', 'DataProductUpdatedEvent'],
    ['com.datamesh-manager.events.DataContractUpdatedEvent', 'dataContract', 'DataContractUpdatedEvent'],
    ['com.entropy-data.events.DataContractDeletedEvent', 'dataContract', 'DataContractDeletedEvent'],
    ['com.entropy-data.events.DataContractTestedEvent', 'other', 'DataContractTestedEvent'],
    ['com.datamesh-manager.events.TeamDeletedEvent', 'team', 'TeamDeletedEvent'],
    ['com.entropy-data.events.TeamUpdatedEvent', 'team', 'TeamUpdatedEvent'],
    ['com.entropy-data.events.TeamMemberAddedEvent', 'other', 'TeamMemberAddedEvent'],
    ['com.datamesh-manager.events.AccessActivated', 'other', 'AccessActivated'],
  ])('%s → %s', (type, family, name) => {
    expect(classifyEvent(type)).toMatchObject({ family, name });
  });

  it('marks the echoes of provisioning reports, and only those', () => {
    const reports = [
      'AccessProvisioningStartedEvent',
      'AccessProvisionedEvent',
      'AccessProvisioningFailedEvent',
      'AccessDeprovisioningStartedEvent',
      'AccessDeprovisionedEvent',
      'AccessDeprovisioningFailedEvent',
    ];
    for (const name of reports) {
      expect(classifyEvent(`com.entropy-data.events.${name}`)).toEqual({
        family: 'agreement',
        name,
        provisioningReport: true,
      });
    }
    expect(classifyEvent('com.entropy-data.events.AccessActivatedEvent').provisioningReport).toBe(false);
  });
});

describe('readEventBatch', () => {
  it('keeps every CloudEvents attribute of a valid event', () => {
    const event = {
      specversion: '1.0',
      id: 'e1',
      type: 'com.entropy-data.events.AccessActivatedEvent',
      source: 'https://entropy-data.com',
      subject: null,
      time: '2026-07-01T00:00:00Z',
      principal: 'system',
      data: { id: 'acc-1', timestamp: '2026-07-01T00:00:00Z' },
    };
    expect(readEventBatch([event])).toEqual([event]);
  });

  it('keeps an event without a type, marked unreadable with its id, index and field, so it can be dead-lettered', () => {
    const batch = [{ id: 'e1', type: 'x.AccessActivatedEvent' }, { id: 'e2' }];
    const [first, second] = readEventBatch(batch);
    expect(first).toEqual({ id: 'e1', type: 'x.AccessActivatedEvent' });
    expect(second).toEqual({
      id: 'e2',
      type: 'unreadable',
      unreadable: expect.stringMatching(/^Event "e2" \(#1\) in feed batch: type: /),
    });
  });

  it('leaves out an event without an id (it cannot be queued or checkpointed) and says so', () => {
    const dropped: EventFormatError[] = [];
    const batch = [{ type: 'x.AccessActivatedEvent' }, { id: 'e2', type: 'x.AccessActivatedEvent' }];
    expect(readEventBatch(batch, (e) => dropped.push(e))).toEqual([{ id: 'e2', type: 'x.AccessActivatedEvent' }]);
    expect(dropped.map((e) => e.message)).toEqual([expect.stringMatching(/^Event #0 in feed batch: id: /)]);
  });

  it('marks an event whose data block is not an object, keeping its type', () => {
    expect(readEventBatch([{ id: 'e1', type: 't', data: 'acc-1' }])).toEqual([
      { id: 'e1', type: 't', unreadable: expect.stringMatching(/"e1".*: data: /) },
    ]);
  });
});
