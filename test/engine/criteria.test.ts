import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criterionTypes } from '../../src/criteria/definitions.ts';
import type { Database } from '../../src/db/database.ts';
import { describeEachDatabase, freshDatabase } from '../support/databases.ts';
import { Scenario } from './support.ts';

/**
 * Every criterion type of DOMAIN.md section 4 on hand-made members at the edges of its
 * definition. Each expectation is checked twice: against the SQL engine over the imported data,
 * and against the reference evaluator over the same records.
 */

const NOW = '2024-03-15T12:00:00Z'; // a Friday; 2024 is a leap year
const covered = new Set<string>();

describeEachDatabase('criteria engine', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await freshDatabase(kind);
  });
  afterAll(() => database?.close());

  const scenario = (timezone = 'UTC') => new Scenario(database, timezone);
  const type = (name: string, suite: () => void) => {
    covered.add(name);
    describe(name, suite);
  };

  type('bought_through_channel', () => {
    it('matches purchases in any listed channel only', async () => {
      const s = scenario();
      const [A, B] = [s.id('channel-a'), s.id('channel-b')];
      s.member('inA').member('inB').member('returnInA').member('noChannel').member('none').member('inactive', { active: false });
      s.sell('inA', '2024-01-01T10:00:00Z', 10, { channelId: A });
      s.sell('inB', '2024-01-01T10:00:00Z', 10, { channelId: B });
      s.return('returnInA', '2024-01-01T10:00:00Z', 10, { channelId: A });
      s.sell('noChannel', '2024-01-01T10:00:00Z', 10);
      s.sell('inactive', '2024-01-01T10:00:00Z', 10, { channelId: A });
      s.sell(null, '2024-01-01T10:00:00Z', 10, { channelId: A });
      await s.load();
      await s.expectMatches({ type: 'bought_through_channel', channelIds: [A] }, NOW, ['inA']);
      await s.expectMatches({ type: 'bought_through_channel', channelIds: [A.toUpperCase(), B] }, NOW, ['inA', 'inB']);
    });
  });

  type('transaction_count', () => {
    it('counts sells only, inclusive bounds, min 0 matches members with none', async () => {
      const s = scenario();
      s.member('zero').member('returnsOnly').member('one').member('two').member('three').member('twoAndReturns');
      s.member('inactiveTwo', { active: false });
      s.return('returnsOnly', '2024-01-01T00:00:00Z');
      s.sell('one', '2024-01-01T00:00:00Z');
      for (let i = 0; i < 2; i++) s.sell('two', `2024-01-0${i + 1}T00:00:00Z`).sell('inactiveTwo', `2024-01-0${i + 1}T00:00:00Z`);
      for (let i = 0; i < 3; i++) s.sell('three', `2024-01-0${i + 1}T00:00:00Z`);
      s.sell('twoAndReturns', '2024-01-01T00:00:00Z').sell('twoAndReturns', '2024-01-02T00:00:00Z');
      for (let i = 0; i < 3; i++) s.return('twoAndReturns', `2024-01-0${i + 3}T00:00:00Z`, 1);
      await s.load();
      await s.expectMatches({ type: 'transaction_count', min: 1, max: 2 }, NOW, ['one', 'two', 'twoAndReturns']);
      await s.expectMatches({ type: 'transaction_count', min: 0, max: 0 }, NOW, ['zero', 'returnsOnly']);
      await s.expectMatches({ type: 'transaction_count', min: 3, max: 3 }, NOW, ['three']);
      await s.expectMatches({ type: 'transaction_count', min: 0, max: 1000 }, NOW, [
        'zero', 'returnsOnly', 'one', 'two', 'three', 'twoAndReturns',
      ]);
    });
  });

  type('average_transaction_amount', () => {
    it('is lifetime amount / purchase count, exact on the cent, 0 without purchases', async () => {
      const s = scenario();
      s.member('none').member('fifteen').member('halfCent').member('returnedAway').member('ninety').member('inactive', { active: false });
      s.sell('fifteen', '2024-01-01T00:00:00Z', 10).sell('fifteen', '2024-01-02T00:00:00Z', 20);
      // 20.01 / 2 = 10.005: above 10.00, below 10.01.
      s.sell('halfCent', '2024-01-01T00:00:00Z', 10).sell('halfCent', '2024-01-02T00:00:00Z', 10.01);
      s.sell('returnedAway', '2024-01-01T00:00:00Z', 30).return('returnedAway', '2024-01-02T00:00:00Z', 40);
      s.sell('ninety', '2024-01-01T00:00:00Z', 100).return('ninety', '2024-01-02T00:00:00Z', 10);
      s.sell('inactive', '2024-01-01T00:00:00Z', 15);
      await s.load();
      const avg = (fromAmount: number, toAmount: number) => ({ type: 'average_transaction_amount', fromAmount, toAmount });
      await s.expectMatches(avg(15, 15), NOW, ['fifteen']);
      await s.expectMatches(avg(0, 0), NOW, ['none', 'returnedAway']);
      await s.expectMatches(avg(10, 10.01), NOW, ['halfCent']);
      await s.expectMatches(avg(10.01, 100), NOW, ['fifteen', 'ninety']);
      await s.expectMatches(avg(0, 10), NOW, ['none', 'returnedAway']);
      await s.expectMatches(avg(90, 90), NOW, ['ninety']);
    });
  });

  type('transaction_percent_in_channel', () => {
    it('needs purchases; share of purchases in the channel >= percent', async () => {
      const s = scenario();
      const [A, B] = [s.id('channel-a'), s.id('channel-b')];
      s.member('all').member('half').member('third').member('none').member('returnsInA');
      s.sell('all', '2024-01-01T00:00:00Z', 10, { channelId: A }).sell('all', '2024-01-02T00:00:00Z', 10, { channelId: A });
      s.sell('half', '2024-01-01T00:00:00Z', 10, { channelId: A }).sell('half', '2024-01-02T00:00:00Z', 10, { channelId: B });
      s.sell('third', '2024-01-01T00:00:00Z', 10, { channelId: A }).sell('third', '2024-01-02T00:00:00Z', 10, { channelId: B });
      s.sell('third', '2024-01-03T00:00:00Z', 10);
      s.sell('returnsInA', '2024-01-01T00:00:00Z', 10, { channelId: B });
      s.return('returnsInA', '2024-01-02T00:00:00Z', 5, { channelId: A }).return('returnsInA', '2024-01-03T00:00:00Z', 5, { channelId: A });
      await s.load();
      const pct = (percent: number) => ({ type: 'transaction_percent_in_channel', channelId: A, percent });
      await s.expectMatches(pct(50), NOW, ['all', 'half']);
      await s.expectMatches(pct(0), NOW, ['all', 'half', 'third', 'returnsInA']);
      await s.expectMatches(pct(33.33), NOW, ['all', 'half', 'third']);
      await s.expectMatches(pct(33.34), NOW, ['all', 'half']);
      await s.expectMatches(pct(100), NOW, ['all']);
    });
  });

  type('purchase_period', () => {
    it('is inclusive on both instants and ignores returns', async () => {
      const s = scenario();
      s.member('onStart').member('onEnd').member('before').member('after').member('returnInside').member('inactive', { active: false });
      s.sell('onStart', '2024-01-01T00:00:00Z').sell('onEnd', '2024-01-31T23:59:59Z');
      s.sell('before', '2023-12-31T23:59:59.999Z').sell('after', '2024-02-01T00:00:00Z');
      s.return('returnInside', '2024-01-15T00:00:00Z').sell('inactive', '2024-01-15T00:00:00Z');
      await s.load();
      await s.expectMatches(
        { type: 'purchase_period', fromDate: '2024-01-01T00:00:00+00:00', toDate: '2024-01-31T23:59:59Z' },
        NOW,
        ['onStart', 'onEnd'],
      );
    });

    it('reads YYYY-MM-DD HH:MM in the store time zone', async () => {
      const s = scenario('Pacific/Auckland');
      s.member('newYearLocal').member('newYearUtc');
      s.sell('newYearLocal', '2023-12-31T11:00:00Z'); // 2024-01-01 00:00 NZDT
      s.sell('newYearUtc', '2024-01-01T00:00:00Z'); // 2024-01-01 13:00 NZDT
      await s.load();
      await s.expectMatches({ type: 'purchase_period', fromDate: '2024-01-01 00:00', toDate: '2024-01-01 12:59' }, NOW, [
        'newYearLocal',
      ]);
    });
  });

  type('bought_labels', () => {
    it('needs one item label with that key and that value, case-insensitively, in a sell', async () => {
      const s = scenario();
      s.member('red').member('blue').member('crossed').member('returned');
      s.sell('red', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'X', labels: [{ key: 'Color', value: ' RED ' }] }] });
      s.sell('blue', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'X', labels: [{ key: 'color', value: 'blue' }] }] });
      s.sell('crossed', '2024-01-01T00:00:00Z', 10, {
        items: [{ sku: 'X', labels: [{ key: 'color', value: 'blue' }, { key: 'size', value: 'red' }] }],
      });
      s.return('returned', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'X', labels: [{ key: 'color', value: 'red' }] }] });
      await s.load();
      await s.expectMatches({ type: 'bought_labels', labels: [{ key: 'color', value: 'red' }] }, NOW, ['red']);
      await s.expectMatches(
        { type: 'bought_labels', labels: [{ key: ' COLOR', value: 'Red' }, { key: 'size', value: 'red' }] },
        NOW,
        ['red', 'crossed'],
      );
    });
  });

  type('bought_makers', () => {
    it('matches any maker of an item in a sell, case-insensitively after trimming', async () => {
      const s = scenario();
      s.member('acme').member('globex').member('returned').member('noMaker');
      s.sell('acme', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'A', maker: 'Acme' }, { sku: 'B', maker: 'Other' }] });
      s.sell('globex', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'A', maker: ' GLOBEX' }] });
      s.return('returned', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'A', maker: 'Acme' }] });
      s.sell('noMaker', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'A' }] });
      await s.load();
      await s.expectMatches({ type: 'bought_makers', makers: [' ACME '] }, NOW, ['acme']);
      await s.expectMatches({ type: 'bought_makers', makers: ['acme', 'globex'] }, NOW, ['acme', 'globex']);
    });
  });

  type('bought_skus', () => {
    it('matches any sku of an item in a sell, case-insensitively after trimming', async () => {
      const s = scenario();
      s.member('sku1').member('sku2').member('returned').member('none');
      s.sell('sku1', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'SKU-1' }] });
      s.sell('sku2', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'sku-2 ' }, { sku: 'SKU-3' }] });
      s.return('returned', '2024-01-01T00:00:00Z', 10, { items: [{ sku: 'SKU-1' }] });
      await s.load();
      await s.expectMatches({ type: 'bought_skus', skuIds: ['sku-1'] }, NOW, ['sku1']);
      await s.expectMatches({ type: 'bought_skus', skuIds: ['SKU-2', 'nope'] }, NOW, ['sku2']);
    });
  });

  type('anniversary', () => {
    it('birthdays from today for `days` days, wrapping the year end', async () => {
      const s = scenario();
      s.member('dec30', { birthDate: '1990-12-30' }).member('dec31', { birthDate: '1991-12-31' });
      s.member('jan01', { birthDate: '1985-01-01' }).member('jan02', { birthDate: '1985-01-02' });
      s.member('dec29', { birthDate: '1980-12-29' }).member('noBirthDate');
      s.member('inactive', { birthDate: '1990-12-30', active: false });
      await s.load();
      const at = '2024-12-30T12:00:00Z';
      await s.expectMatches({ type: 'anniversary', anniversaryType: 'birthday', days: 1 }, at, ['dec30']);
      await s.expectMatches({ type: 'anniversary', anniversaryType: 'birthday', days: 3 }, at, ['dec30', 'dec31', 'jan01']);
      await s.expectMatches({ type: 'anniversary', anniversaryType: 'birthday', days: 400 }, at, [
        'dec30', 'dec31', 'jan01', 'jan02', 'dec29',
      ]);
      await s.expectMatches({ type: 'anniversary', anniversaryType: 'birthday', days: 365 }, at, [
        'dec30', 'dec31', 'jan01', 'jan02', 'dec29',
      ]);
      await s.expectMatches({ type: 'anniversary', anniversaryType: 'birthday', days: 364 }, at, [
        'dec30', 'dec31', 'jan01', 'jan02',
      ]);
    });

    it('29 February counts as 28 February in non-leap years', async () => {
      const s = scenario();
      s.member('leapling', { birthDate: '2000-02-29' }).member('feb28', { birthDate: '2001-02-28' }).member('mar01', { birthDate: '2001-03-01' });
      await s.load();
      const bday = (days: number) => ({ type: 'anniversary', anniversaryType: 'birthday', days });
      // 2025 is not a leap year: the leapling's birthday is 28 February.
      await s.expectMatches(bday(1), '2025-02-27T12:00:00Z', []);
      await s.expectMatches(bday(2), '2025-02-27T12:00:00Z', ['leapling', 'feb28']);
      await s.expectMatches(bday(1), '2025-02-28T12:00:00Z', ['leapling', 'feb28']);
      await s.expectMatches(bday(1), '2025-03-01T12:00:00Z', ['mar01']);
      // 2024 is: 29 February exists.
      await s.expectMatches(bday(1), '2024-02-28T12:00:00Z', ['feb28']);
      await s.expectMatches(bday(1), '2024-02-29T12:00:00Z', ['leapling']);
      await s.expectMatches(bday(2), '2024-02-28T12:00:00Z', ['leapling', 'feb28']);
      // A window from a non-leap year into a leap one: 2027-12-31 + 60 days reaches 2028-02-28 only.
      await s.expectMatches(bday(60), '2027-12-31T12:00:00Z', ['feb28']);
      await s.expectMatches(bday(61), '2027-12-31T12:00:00Z', ['leapling', 'feb28']);
    });

    it('registration anniversaries use the registration day and today in the store time zone', async () => {
      const s = scenario('Pacific/Auckland');
      // 2020-01-02 00:30 in Auckland (2020-01-01 in UTC).
      s.member('registered', { registeredAt: '2020-01-01T11:30:00Z' });
      s.member('other', { registeredAt: '2020-06-01T00:00:00Z' });
      await s.load();
      const reg = { type: 'anniversary', anniversaryType: 'registration', days: 1 };
      await s.expectMatches(reg, '2025-01-01T10:59:59Z', []); // 2025-01-01 23:59 in Auckland
      await s.expectMatches(reg, '2025-01-01T11:00:00Z', ['registered']); // 2025-01-02 00:00 in Auckland
      await s.expectMatches(reg, '2025-01-02T10:59:59Z', ['registered']); // still 2025-01-02 there
      await s.expectMatches(reg, '2025-01-02T11:00:00Z', []);
    });
  });

  type('last_purchase_n_days_before', () => {
    it('counts from 00:00 of (today - N) in the store zone up to now, across a DST change', async () => {
      const s = scenario('America/New_York');
      // Now is 2024-03-15 08:00 EDT; 2 days back starts 2024-03-13 00:00 EDT = 04:00Z.
      s.member('edgeIn').member('edgeOut').member('futureOnly').member('futureAndIn').member('returnIn').member('none');
      s.member('dstIn').member('dstOut').member('inactive', { active: false });
      s.sell('edgeIn', '2024-03-13T04:00:00Z').sell('edgeOut', '2024-03-13T03:59:59.999Z');
      s.sell('futureOnly', '2024-03-15T12:00:00.001Z');
      s.sell('futureAndIn', '2024-03-14T10:00:00Z').sell('futureAndIn', '2024-03-20T10:00:00Z');
      s.return('returnIn', '2024-03-14T10:00:00Z').sell('inactive', '2024-03-14T10:00:00Z');
      // 5 days back is 2024-03-10 00:00 EST (-05:00), before that morning's switch to EDT.
      s.sell('dstIn', '2024-03-10T05:00:00Z').sell('dstOut', '2024-03-10T04:59:59Z');
      await s.load();
      await s.expectMatches({ type: 'last_purchase_n_days_before', days: 2 }, NOW, ['edgeIn', 'futureAndIn']);
      await s.expectMatches({ type: 'last_purchase_n_days_before', days: 5 }, NOW, ['edgeIn', 'edgeOut', 'futureAndIn', 'dstIn']);
      // Now exactly: inclusive.
      await s.expectMatches({ type: 'last_purchase_n_days_before', days: 1 }, '2024-03-15T12:00:00.001Z', [
        'futureOnly', 'futureAndIn',
      ]);
    });
  });

  type('last_transaction_between_days', () => {
    it('dates the most recent purchase in the store zone', async () => {
      const s = scenario('Pacific/Auckland');
      // Now is 2024-03-16 01:00 NZDT: today is 16 March there.
      s.member('yesterdayStart').member('dayBeforeEnd').member('threeDaysAgo').member('today').member('olderThenToday');
      s.member('returnsOnly').member('none');
      s.sell('yesterdayStart', '2024-03-14T11:00:00Z'); // 2024-03-15 00:00 NZDT
      s.sell('dayBeforeEnd', '2024-03-14T10:59:59Z'); // 2024-03-14 23:59:59 NZDT
      s.sell('threeDaysAgo', '2024-03-13T10:59:59Z'); // 2024-03-13 23:59:59 NZDT
      s.sell('today', '2024-03-15T11:00:00Z'); // 2024-03-16 00:00 NZDT
      s.sell('olderThenToday', '2024-03-14T12:00:00Z').sell('olderThenToday', '2024-03-15T11:30:00Z');
      s.return('returnsOnly', '2024-03-14T12:00:00Z');
      await s.load();
      await s.expectMatches({ type: 'last_transaction_between_days', fromDays: 1, toDays: 2 }, NOW, ['yesterdayStart', 'dayBeforeEnd']);
      await s.expectMatches({ type: 'last_transaction_between_days', fromDays: 0, toDays: 0 }, NOW, ['today', 'olderThenToday']);
      await s.expectMatches({ type: 'last_transaction_between_days', fromDays: 3, toDays: 3 }, NOW, ['threeDaysAgo']);
      await s.expectMatches({ type: 'last_transaction_between_days', fromDays: 0, toDays: 10000 }, NOW, [
        'yesterdayStart', 'dayBeforeEnd', 'threeDaysAgo', 'today', 'olderThenToday',
      ]);
    });
  });

  type('last_custom_event_n_days_before', () => {
    it('matches an event of the type (case-insensitive) from 00:00 of today - N to now', async () => {
      const s = scenario();
      s.member('edgeIn').member('edgeOut').member('otherType').member('future').member('none');
      s.activity('customEvent', 'edgeIn', { type: 'App_Login', eventDate: '2024-03-14T00:00:00Z' });
      s.activity('customEvent', 'edgeOut', { type: 'app_login', eventDate: '2024-03-13T23:59:59.999Z' });
      s.activity('customEvent', 'otherType', { type: 'newsletter_open', eventDate: '2024-03-15T00:00:00Z' });
      s.activity('customEvent', 'future', { type: 'app_login', eventDate: '2024-03-15T12:00:01Z' });
      await s.load();
      await s.expectMatches({ type: 'last_custom_event_n_days_before', eventType: ' APP_LOGIN ', days: 1 }, NOW, ['edgeIn']);
      await s.expectMatches({ type: 'last_custom_event_n_days_before', eventType: 'app_login', days: 2 }, NOW, ['edgeIn', 'edgeOut']);
    });
  });

  type('last_custom_event_between_days', () => {
    it('dates the most recent event of that type in the store zone', async () => {
      const s = scenario('America/New_York');
      // Now is 2024-03-15 08:00 EDT.
      s.member('todayLocal').member('yesterdayLocal').member('latestOtherType').member('olderThenToday').member('none');
      s.activity('customEvent', 'todayLocal', { type: 'visit', eventDate: '2024-03-15T04:00:00Z' }); // 00:00 EDT
      s.activity('customEvent', 'yesterdayLocal', { type: 'visit', eventDate: '2024-03-15T03:59:59Z' }); // 23:59 EDT on 14th
      s.activity('customEvent', 'latestOtherType', { type: 'visit', eventDate: '2024-03-10T12:00:00Z' });
      s.activity('customEvent', 'latestOtherType', { type: 'login', eventDate: '2024-03-15T10:00:00Z' });
      s.activity('customEvent', 'olderThenToday', { type: 'visit', eventDate: '2024-03-14T12:00:00Z' });
      s.activity('customEvent', 'olderThenToday', { type: 'VISIT', eventDate: '2024-03-15T10:00:00Z' });
      await s.load();
      const between = (fromDays: number, toDays: number) => ({ type: 'last_custom_event_between_days', eventType: 'Visit', fromDays, toDays });
      await s.expectMatches(between(0, 0), NOW, ['todayLocal', 'olderThenToday']);
      await s.expectMatches(between(1, 1), NOW, ['yesterdayLocal']);
      await s.expectMatches(between(1, 5), NOW, ['yesterdayLocal', 'latestOtherType']);
    });
  });

  type('transaction_amount', () => {
    it('is max(0, sells - returns) over the whole history', async () => {
      const s = scenario();
      s.member('hundred').member('negative').member('none').member('inactive', { active: false });
      s.sell('hundred', '2024-01-01T00:00:00Z', 50).sell('hundred', '2024-01-02T00:00:00Z', 50.01).return('hundred', '2024-01-03T00:00:00Z', 0.01);
      s.sell('negative', '2024-01-01T00:00:00Z', 10).return('negative', '2024-01-02T00:00:00Z', 25);
      s.sell('inactive', '2024-01-01T00:00:00Z', 100);
      await s.load();
      await s.expectMatches({ type: 'transaction_amount', fromAmount: 100, toAmount: 100 }, NOW, ['hundred']);
      await s.expectMatches({ type: 'transaction_amount', fromAmount: 0, toAmount: 0 }, NOW, ['negative', 'none']);
      await s.expectMatches({ type: 'transaction_amount', fromAmount: 0.01, toAmount: 99.99 }, NOW, []);
    });
  });

  type('transaction_amount_each_day_in_period', () => {
    it('checks every calendar day (store zone) of the period; a day without transactions is 0', async () => {
      const s = scenario('America/New_York');
      // 2024-03-09 .. 2024-03-11 spans the switch to daylight time on the 10th.
      s.member('everyDay').member('gap').member('utcWouldDo').member('netted').member('tooMuch').member('none').member('outside');
      s.member('returnInside');
      const everyDay = (name: string) => s.sell(name, '2024-03-09T15:00:00Z', 10).sell(name, '2024-03-11T15:00:00Z', 20);
      everyDay('everyDay').sell('everyDay', '2024-03-11T03:30:00Z', 15); // 2024-03-10 23:30 EDT
      everyDay('gap');
      everyDay('utcWouldDo').sell('utcWouldDo', '2024-03-10T03:00:00Z', 15); // 2024-03-09 22:00 EST
      everyDay('netted').sell('netted', '2024-03-10T15:00:00Z', 30).return('netted', '2024-03-10T16:00:00Z', 15);
      everyDay('tooMuch').sell('tooMuch', '2024-03-10T15:00:00Z', 20.01);
      s.sell('outside', '2024-03-08T15:00:00Z', 100).sell('outside', '2024-03-12T15:00:00Z', 100);
      s.return('returnInside', '2024-03-10T15:00:00Z', 5);
      await s.load();
      const each = (fromAmount: number, toAmount: number) => ({
        type: 'transaction_amount_each_day_in_period', fromDate: '2024-03-09', toDate: '2024-03-11', fromAmount, toAmount,
      });
      await s.expectMatches(each(10, 20), NOW, ['everyDay', 'netted']);
      await s.expectMatches(each(0, 5), NOW, ['none', 'outside']);
      await s.expectMatches(each(0, 1000), NOW, ['everyDay', 'gap', 'utcWouldDo', 'netted', 'tooMuch', 'none', 'outside']);
    });
  });

  type('transaction_amount_in_period', () => {
    it('is sells minus returns inside the instants, not clamped at 0', async () => {
      const s = scenario();
      s.member('netted').member('outsideIgnored').member('onEnd').member('returnOnly').member('none');
      s.sell('netted', '2024-01-10T00:00:00Z', 30).return('netted', '2024-01-11T00:00:00Z', 15);
      s.sell('outsideIgnored', '2024-01-10T00:00:00Z', 15).sell('outsideIgnored', '2024-02-01T00:00:00Z', 100);
      s.sell('onEnd', '2024-01-31T23:59:59Z', 20).sell('onEnd', '2024-01-01T00:00:00Z', 0);
      s.return('returnOnly', '2024-01-10T00:00:00Z', 5);
      await s.load();
      const period = (fromAmount: number, toAmount: number) => ({
        type: 'transaction_amount_in_period', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-31T23:59:59Z', fromAmount, toAmount,
      });
      await s.expectMatches(period(15, 20), NOW, ['netted', 'outsideIgnored', 'onEnd']);
      await s.expectMatches(period(0, 0), NOW, ['none']);
      await s.expectMatches(period(0, 15), NOW, ['netted', 'outsideIgnored', 'none']);
    });
  });

  type('transaction_count_in_period', () => {
    it('counts sells within the instants; min 0 matches members with none', async () => {
      const s = scenario();
      s.member('two').member('oneAndOutside').member('returnsOnly').member('none');
      s.sell('two', '2024-01-01T00:00:00Z').sell('two', '2024-01-31T23:59:59Z');
      s.sell('oneAndOutside', '2024-01-15T00:00:00Z').sell('oneAndOutside', '2024-02-01T00:00:00Z');
      s.return('returnsOnly', '2024-01-15T00:00:00Z');
      await s.load();
      const count = (min: number, max: number) => ({
        type: 'transaction_count_in_period', fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-31T23:59:59Z', min, max,
      });
      await s.expectMatches(count(2, 2), NOW, ['two']);
      await s.expectMatches(count(1, 5), NOW, ['two', 'oneAndOutside']);
      await s.expectMatches(count(0, 0), NOW, ['returnsOnly', 'none']);
    });
  });

  type('transaction_amount_each_day_in_last_n_days', () => {
    it('checks the N full days before today in the store zone, ignoring today', async () => {
      const s = scenario('Pacific/Auckland');
      // Now is 2024-03-16 01:00 NZDT: 2 days = 14 and 15 March there.
      s.member('both').member('tzEdge').member('missingOne').member('todayOnly').member('none');
      s.sell('both', '2024-03-14T00:00:00Z', 10).sell('both', '2024-03-15T00:00:00Z', 10); // 14th and 15th 13:00
      s.sell('tzEdge', '2024-03-13T11:00:00Z', 5).sell('tzEdge', '2024-03-15T10:59:59Z', 100); // 14th 00:00, 15th 23:59
      s.sell('missingOne', '2024-03-13T10:59:59Z', 10).sell('missingOne', '2024-03-15T00:00:00Z', 10); // 13th, 15th
      s.sell('todayOnly', '2024-03-15T11:00:00Z', 10); // 16th 00:00
      await s.load();
      const each = (days: number, fromAmount: number, toAmount: number) => ({
        type: 'transaction_amount_each_day_in_last_n_days', days, fromAmount, toAmount,
      });
      await s.expectMatches(each(2, 5, 100), NOW, ['both', 'tzEdge']);
      await s.expectMatches(each(1, 10, 10), NOW, ['both', 'missingOne']);
      await s.expectMatches(each(2, 0, 0), NOW, ['todayOnly', 'none']);
    });
  });

  type('transaction_amount_in_last_n_days', () => {
    it('sums sells minus returns from 00:00 of today - N (store zone) up to now', async () => {
      const s = scenario('America/New_York');
      // Now is 2024-03-15 08:00 EDT; 1 day back starts 2024-03-14 00:00 EDT = 04:00Z.
      s.member('edgeIn').member('edgeOut').member('todayBeforeNow').member('todayAfterNow').member('netted').member('none');
      s.sell('edgeIn', '2024-03-14T04:00:00Z', 10).sell('edgeOut', '2024-03-14T03:59:59Z', 10);
      s.sell('todayBeforeNow', '2024-03-15T11:00:00Z', 10).sell('todayAfterNow', '2024-03-15T13:00:00Z', 10);
      s.sell('netted', '2024-03-14T20:00:00Z', 20).return('netted', '2024-03-15T05:00:00Z', 10);
      await s.load();
      const last = (days: number, fromAmount: number, toAmount: number) => ({ type: 'transaction_amount_in_last_n_days', days, fromAmount, toAmount });
      await s.expectMatches(last(1, 10, 10), NOW, ['edgeIn', 'todayBeforeNow', 'netted']);
      await s.expectMatches(last(1, 0, 0), NOW, ['edgeOut', 'todayAfterNow', 'none']);
      await s.expectMatches(last(2, 10, 10), NOW, ['edgeIn', 'edgeOut', 'todayBeforeNow', 'netted']);
    });
  });

  type('customer_in_level', () => {
    it('matches the current level', async () => {
      const s = scenario();
      const [L1, L2] = [s.id('level-1'), s.id('level-2')];
      s.member('l1', { levelId: L1 }).member('l2', { levelId: L2 }).member('none').member('inactive', { levelId: L1, active: false });
      await s.load();
      await s.expectMatches({ type: 'customer_in_level', levelIds: [L1] }, NOW, ['l1']);
      await s.expectMatches({ type: 'customer_in_level', levelIds: [L1, L2] }, NOW, ['l1', 'l2']);
    });
  });

  type('customer_has_labels', () => {
    it('matches any key, case-insensitively, ignoring values', async () => {
      const s = scenario();
      s.member('vip', { labels: [{ key: 'VIP', value: 'yes' }] }).member('vipx', { labels: [{ key: 'vipx', value: 'vip' }] });
      s.member('both', { labels: [{ key: 'vip', value: '' }, { key: 'newsletter', value: 'no' }] }).member('none');
      await s.load();
      await s.expectMatches({ type: 'customer_has_labels', labels: [{ key: ' vip ', value: 'no' }] }, NOW, ['vip', 'both']);
      await s.expectMatches({ type: 'customer_has_labels', labels: [{ key: 'NEWSLETTER' }, { key: 'vipx' }] }, NOW, ['vipx', 'both']);
    });
  });

  type('customer_with_labels_values', () => {
    it('needs one label with both that key and that value', async () => {
      const s = scenario();
      s.member('match', { labels: [{ key: 'Interest', value: 'Running' }] });
      s.member('crossed', { labels: [{ key: 'interest', value: 'gaming' }, { key: 'sport', value: 'running' }] });
      s.member('none');
      await s.load();
      await s.expectMatches({ type: 'customer_with_labels_values', labels: [{ key: 'interest', value: ' RUNNING' }] }, NOW, ['match']);
      await s.expectMatches(
        { type: 'customer_with_labels_values', labels: [{ key: 'interest', value: 'running' }, { key: 'sport', value: 'running' }] },
        NOW,
        ['match', 'crossed'],
      );
    });
  });

  for (const listType of ['customer_list', 'customer_csv_list']) {
    type(listType, () => {
      it('matches the listed (resolved) member ids, active members only', async () => {
        const s = scenario();
        s.member('a').member('b').member('c').member('inactive', { active: false });
        await s.load();
        await s.expectMatches({ type: listType, customers: [s.id('a'), s.id('b').toUpperCase(), s.id('inactive')] }, NOW, ['a', 'b']);
        await s.expectMatches({ type: listType, customers: [s.id('c'), 'not-an-id@example.com'] }, NOW, ['c']);
        if (listType === 'customer_csv_list') await s.expectMatches({ type: listType, customers: [] }, NOW, []);
      });
    });
  }

  type('gender', () => {
    it('matches any of the genders', async () => {
      const s = scenario();
      s.member('female', { gender: 'female' }).member('male', { gender: 'male' }).member('undisclosed', { gender: 'not_disclosed' }).member('none');
      await s.load();
      await s.expectMatches({ type: 'gender', genders: ['female', 'not_disclosed'] }, NOW, ['female', 'undisclosed']);
      await s.expectMatches({ type: 'gender', genders: ['male'] }, NOW, ['male']);
    });
  });

  const address = (city: string, province: string, country: string, postal: string) => ({
    address: { city, province, country, postal },
  });
  const addresses = (s: Scenario) =>
    s
      .member('warsaw', address('Warsaw', 'Mazowieckie', 'PL', '00-001'))
      .member('krakow', address('Kraków', 'Małopolskie', 'pl', '30-001'))
      .member('berlin', address('Berlin', 'Berlin', 'DE', '10115'))
      .member('krakowUpper', address('KRAKÓW', 'MAŁOPOLSKIE', 'PL', '30-002'))
      .member('homeless')
      .member('inactive', { ...address('Warsaw', 'Mazowieckie', 'PL', '00-001'), active: false });

  type('city', () => {
    it('matches any city, case-insensitively after trimming', async () => {
      const s = addresses(scenario());
      await s.load();
      await s.expectMatches({ type: 'city', cities: [' WARSAW '] }, NOW, ['warsaw']);
      await s.expectMatches({ type: 'city', cities: ['kraków', 'berlin'] }, NOW, ['krakow', 'krakowUpper', 'berlin']);
    });
  });

  type('province', () => {
    it('matches any province, case-insensitively after trimming', async () => {
      const s = addresses(scenario());
      await s.load();
      await s.expectMatches({ type: 'province', provinces: ['mazowieckie', 'BERLIN '] }, NOW, ['warsaw', 'berlin']);
      await s.expectMatches({ type: 'province', provinces: ['małopolskie'] }, NOW, ['krakow', 'krakowUpper']);
    });
  });

  type('country', () => {
    it('matches any country code, case-insensitively', async () => {
      const s = addresses(scenario());
      await s.load();
      await s.expectMatches({ type: 'country', countries: ['pl'] }, NOW, ['warsaw', 'krakow', 'krakowUpper']);
      await s.expectMatches({ type: 'country', countries: ['De', 'FR'] }, NOW, ['berlin']);
    });
  });

  type('postal', () => {
    it('matches any postal code after trimming', async () => {
      const s = addresses(scenario());
      await s.load();
      await s.expectMatches({ type: 'postal', postalCodes: [' 00-001', '10115'] }, NOW, ['warsaw', 'berlin']);
    });
  });

  type('age', () => {
    it('is whole years on today (store zone), inclusive, only with a birth date', async () => {
      const s = scenario('Pacific/Auckland');
      // Now is 2024-03-16 01:00 in Auckland (still 15 March in UTC).
      s.member('eighteenToday', { birthDate: '2006-03-16' }).member('seventeen', { birthDate: '2006-03-17' });
      s.member('nineteenToday', { birthDate: '2005-03-16' }).member('eighteenLastDay', { birthDate: '2005-03-17' });
      s.member('noBirthDate').member('inactive', { birthDate: '2006-03-16', active: false });
      await s.load();
      await s.expectMatches({ type: 'age', fromAge: 18, toAge: 18 }, NOW, ['eighteenToday', 'eighteenLastDay']);
      await s.expectMatches({ type: 'age', fromAge: 17, toAge: 19 }, NOW, ['eighteenToday', 'seventeen', 'nineteenToday', 'eighteenLastDay']);
      await s.expectMatches({ type: 'age', fromAge: 0, toAge: 200 }, NOW, ['eighteenToday', 'seventeen', 'nineteenToday', 'eighteenLastDay']);
    });

    it('a 29 February birthday comes on 28 February in non-leap years', async () => {
      const s = scenario();
      s.member('leapling', { birthDate: '2004-02-29' });
      await s.load();
      await s.expectMatches({ type: 'age', fromAge: 21, toAge: 21 }, '2025-02-27T12:00:00Z', []);
      await s.expectMatches({ type: 'age', fromAge: 21, toAge: 21 }, '2025-02-28T00:00:00Z', ['leapling']);
      await s.expectMatches({ type: 'age', fromAge: 20, toAge: 20 }, '2024-02-28T12:00:00Z', []);
      await s.expectMatches({ type: 'age', fromAge: 19, toAge: 19 }, '2024-02-28T12:00:00Z', ['leapling']);
      await s.expectMatches({ type: 'age', fromAge: 20, toAge: 20 }, '2024-02-29T00:00:00Z', ['leapling']);
    });
  });

  type('campaign_completion', () => {
    it('matches completions of any campaign, within the dates when given', async () => {
      const s = scenario();
      const [C1, C2] = [s.id('campaign-1'), s.id('campaign-2')];
      s.member('early').member('onFrom').member('onTo').member('late').member('otherCampaign').member('none');
      s.activity('campaignCompletion', 'early', { campaignId: C1, completedAt: '2023-12-31T23:59:59Z' });
      s.activity('campaignCompletion', 'onFrom', { campaignId: C1, completedAt: '2024-01-01T00:00:00Z' });
      s.activity('campaignCompletion', 'onTo', { campaignId: C1, completedAt: '2024-01-31T00:00:00Z' });
      s.activity('campaignCompletion', 'late', { campaignId: C1, completedAt: '2024-01-31T00:00:01Z' });
      s.activity('campaignCompletion', 'otherCampaign', { campaignId: C2, completedAt: '2024-01-15T00:00:00Z' });
      await s.load();
      const all = ['early', 'onFrom', 'onTo', 'late'];
      await s.expectMatches({ type: 'campaign_completion', campaignIds: [C1] }, NOW, all);
      await s.expectMatches({ type: 'campaign_completion', campaignIds: [C1, C2] }, NOW, [...all, 'otherCampaign']);
      await s.expectMatches(
        { type: 'campaign_completion', campaignIds: [C1], fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-31T00:00:00Z' },
        NOW,
        ['onFrom', 'onTo'],
      );
      await s.expectMatches({ type: 'campaign_completion', campaignIds: [C1], fromDate: '2024-01-01T00:00:00Z' }, NOW, ['onFrom', 'onTo', 'late']);
      await s.expectMatches({ type: 'campaign_completion', campaignIds: [C1], toDate: '2024-01-01T00:00:00Z' }, NOW, ['early', 'onFrom']);
    });
  });

  type('achievement_completion_count', () => {
    it('counts completions of that achievement; no maxCount is unbounded', async () => {
      const s = scenario();
      const [A, OTHER] = [s.id('achievement'), s.id('other-achievement')];
      s.member('none').member('one').member('three').member('otherOnly');
      s.activity('achievementCompletion', 'one', { achievementId: A, completedAt: '2024-01-01T00:00:00Z' });
      for (let i = 0; i < 3; i++) s.activity('achievementCompletion', 'three', { achievementId: A, completedAt: `2024-01-0${i + 1}T00:00:00Z` });
      s.activity('achievementCompletion', 'otherOnly', { achievementId: OTHER, completedAt: '2024-01-01T00:00:00Z' });
      await s.load();
      await s.expectMatches({ type: 'achievement_completion_count', achievementId: A, minCount: 1 }, NOW, ['one', 'three']);
      await s.expectMatches({ type: 'achievement_completion_count', achievementId: A, minCount: 0, maxCount: 0 }, NOW, ['none', 'otherOnly']);
      await s.expectMatches({ type: 'achievement_completion_count', achievementId: A, minCount: 1, maxCount: 1 }, NOW, ['one']);
      await s.expectMatches({ type: 'achievement_completion_count', achievementId: A, minCount: 3, maxCount: 3 }, NOW, ['three']);
    });
  });

  type('achievement_rule_progress', () => {
    it('sums increments on the rule, over the last N days (store zone) when given', async () => {
      const s = scenario('America/New_York');
      const [A, R, R2] = [s.id('achievement'), s.id('rule'), s.id('rule-2')];
      s.member('recent').member('old').member('otherRule').member('none');
      const progress = (name: string, ruleId: string, value: number, recordedAt: string) =>
        s.activity('achievementProgress', name, { achievementId: A, ruleId, value, recordedAt });
      progress('recent', R, 0.1, '2024-03-14T04:00:00Z'); // 2024-03-14 00:00 EDT
      progress('recent', R, 0.2, '2024-03-15T10:00:00Z');
      progress('old', R, 5, '2024-03-14T03:59:59Z');
      progress('old', R, 0.3, '2024-03-15T10:00:00Z');
      progress('otherRule', R2, 10, '2024-03-15T10:00:00Z');
      await s.load();
      const rule = (extra: Record<string, unknown>) => ({ type: 'achievement_rule_progress', achievementId: A, ruleId: R, ...extra });
      await s.expectMatches(rule({ minProgress: 0.3, maxProgress: 0.3, days: 1 }), NOW, ['recent', 'old']);
      await s.expectMatches(rule({ minProgress: 5.3 }), NOW, ['old']);
      await s.expectMatches(rule({ minProgress: 0, maxProgress: 0 }), NOW, ['otherRule', 'none']);
      await s.expectMatches(rule({ minProgress: 0.31, days: 2 }), NOW, ['old']);
    });
  });

  type('customer_in_tiers', () => {
    it('matches holders of any of the tiers', async () => {
      const s = scenario();
      const [T1, T2, T3] = [s.id('tier-1'), s.id('tier-2'), s.id('tier-3')];
      s.member('t1', { tierIds: [T1] }).member('t2t3', { tierIds: [T2, T3] }).member('none');
      await s.load();
      await s.expectMatches({ type: 'customer_in_tiers', tierIds: [T1] }, NOW, ['t1']);
      await s.expectMatches({ type: 'customer_in_tiers', tierIds: [T3, T1] }, NOW, ['t1', 't2t3']);
    });
  });

  type('member_registration_date', () => {
    it('is inclusive on both instants; local times read in the store zone', async () => {
      const s = scenario('Pacific/Auckland');
      s.member('onFrom', { registeredAt: '2023-12-31T11:00:00Z' }); // 2024-01-01 00:00 NZDT
      s.member('before', { registeredAt: '2023-12-31T10:59:59Z' });
      s.member('onTo', { registeredAt: '2024-01-31T10:59:00Z' }); // 2024-01-31 23:59 NZDT
      s.member('after', { registeredAt: '2024-01-31T10:59:00.001Z' });
      s.member('defaultsToCreated', { registeredAt: undefined, createdAt: '2024-01-15T00:00:00Z' });
      await s.load();
      await s.expectMatches({ type: 'member_registration_date', fromDate: '2024-01-01 00:00', toDate: '2024-01-31 23:59' }, NOW, [
        'onFrom', 'onTo', 'defaultsToCreated',
      ]);
    });
  });

  type('member_custom_field_value', () => {
    it('compares key and values case-insensitively after trimming', async () => {
      const s = scenario();
      s.member('size42', { customFields: { Shoe_Size: '42' } }).member('size42number', { customFields: { shoe_size: 42 } });
      s.member('size43', { customFields: { shoe_size: '43' } }).member('otherKey', { customFields: { size: '42' } }).member('none');
      s.member('text', { customFields: { favourite: ' Blue ' } });
      await s.load();
      await s.expectMatches({ type: 'member_custom_field_value', key: ' SHOE_SIZE ', values: ['42'] }, NOW, ['size42', 'size42number']);
      await s.expectMatches({ type: 'member_custom_field_value', key: 'favourite', values: ['blue', 'red'] }, NOW, ['text']);
    });
  });

  type('member_loyalty_card_number', () => {
    it('matches card numbers exactly (case-sensitive)', async () => {
      const s = scenario();
      s.member('upper', { loyaltyCardNumber: 'ABC123' }).member('lower', { loyaltyCardNumber: 'abc123' }).member('none');
      await s.load();
      await s.expectMatches({ type: 'member_loyalty_card_number', loyaltyCardNumbers: ['ABC123'] }, NOW, ['upper']);
      await s.expectMatches({ type: 'member_loyalty_card_number', loyaltyCardNumbers: ['abc123', 'ABC'] }, NOW, ['lower']);
    });
  });

  type('challenge_campaign_completion_count', () => {
    it('counts completions of that challenge', async () => {
      const s = scenario();
      const [C, OTHER] = [s.id('challenge'), s.id('other-challenge')];
      s.member('none').member('two').member('otherOnly');
      s.activity('challengeCompletion', 'two', { challengeId: C, completedAt: '2024-01-01T00:00:00Z' });
      s.activity('challengeCompletion', 'two', { challengeId: C, completedAt: '2024-01-02T00:00:00Z' });
      s.activity('challengeCompletion', 'otherOnly', { challengeId: OTHER, completedAt: '2024-01-01T00:00:00Z' });
      await s.load();
      await s.expectMatches({ type: 'challenge_campaign_completion_count', challengeId: C, minCount: 2 }, NOW, ['two']);
      await s.expectMatches({ type: 'challenge_campaign_completion_count', challengeId: C, minCount: 0, maxCount: 1 }, NOW, ['none', 'otherOnly']);
    });
  });

  type('challenge_campaign_milestone_progress', () => {
    it('sums increments on that milestone exactly', async () => {
      const s = scenario();
      const [C, M, M2] = [s.id('challenge'), s.id('milestone'), s.id('milestone-2')];
      s.member('point3').member('ten').member('otherMilestone').member('none');
      const progress = (name: string, milestoneId: string, value: number) =>
        s.activity('challengeProgress', name, { challengeId: C, milestoneId, value, recordedAt: '2024-01-01T00:00:00Z' });
      progress('point3', M, 0.1);
      progress('point3', M, 0.2);
      progress('ten', M, 10);
      progress('otherMilestone', M2, 10);
      await s.load();
      const milestone = (extra: Record<string, unknown>) => ({ type: 'challenge_campaign_milestone_progress', challengeId: C, milestoneId: M, ...extra });
      await s.expectMatches(milestone({ minProgress: 0.3, maxProgress: 0.3 }), NOW, ['point3']);
      await s.expectMatches(milestone({ minProgress: 0.3 }), NOW, ['point3', 'ten']);
      await s.expectMatches(milestone({ minProgress: 0, maxProgress: 0.29 }), NOW, ['otherMilestone', 'none']);
    });
  });

  describe('segments', () => {
    it('AND-s parts, OR-s criteria inside a part; no parts matches nobody; inactive members never match', async () => {
      const s = scenario();
      s.member('warsawFemale', { gender: 'female', address: { city: 'Warsaw' } });
      s.member('warsawMale', { gender: 'male', address: { city: 'Warsaw' } });
      s.member('berlinFemale', { gender: 'female', address: { city: 'Berlin' } });
      s.member('parisMale', { gender: 'male', address: { city: 'Paris' } });
      s.member('inactive', { gender: 'female', address: { city: 'Warsaw' }, active: false });
      await s.load();
      const city = (...cities: string[]) => s.criterion({ type: 'city', cities });
      const female = s.criterion({ type: 'gender', genders: ['female'] });
      const check = async (parts: { criteria: ReturnType<typeof city>[] }[], expected: string[]) => {
        expect(await s.sqlNames(parts, NOW)).toEqual([...expected].sort());
        expect(s.referenceNames(parts, NOW)).toEqual([...expected].sort());
      };
      await check([], []);
      await check([{ criteria: [city('warsaw')] }, { criteria: [female] }], ['warsawFemale']);
      await check([{ criteria: [city('warsaw'), female] }], ['warsawFemale', 'warsawMale', 'berlinFemale']);
      await check([{ criteria: [city('warsaw'), female] }, { criteria: [city('berlin', 'paris')] }], ['berlinFemale']);
      await check([{ criteria: [s.criterion({ type: 'customer_list', customers: [s.id('inactive')] })] }], []);
    });

    it('never sees another store’s members', async () => {
      const a = scenario();
      a.member('mine', { gender: 'female' });
      const b = scenario();
      b.member('theirs', { gender: 'female' });
      await a.load();
      await b.load();
      const parts = [{ criteria: [a.criterion({ type: 'gender', genders: ['female'] })] }];
      expect(await a.sqlNames(parts, NOW)).toEqual(['mine']);
      expect(await b.sqlNames(parts, NOW)).toEqual(['theirs']);
    });
  });
});

describe('criteria engine coverage', () => {
  it('has edge tests for every criterion type', () => {
    expect([...covered].sort()).toEqual([...criterionTypes].sort());
    expect(criterionTypes).toHaveLength(39);
  });
});
