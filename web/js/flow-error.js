// A flow error (422) as the page shows it (issue 14, defect 3). The server words it by
// role: an end user gets a plain message (which step failed; an administrator can see the
// details), admins and managers of the flow the Lua error with its traceback, shown here
// folded under "Details for administrators".

import { h } from './dom.js';
import { describeError } from './api.js';

export function flowErrorBlock(e, doing) {
  const msg = describeError(e, doing);
  if (!e || !e.traceback) return h('span', { testid: 'flow-error-plain' }, msg);
  return [h('span', null, msg),
    h('details', { class: 'traceback', testid: 'flow-error-details' },
      h('summary', null, `Details for administrators${e.node ? ` (step ${e.node})` : ''}`),
      h('pre', { testid: 'flow-error-traceback' }, e.traceback))];
}
