// Request and response frames on one connection: our requests waiting for their answer (each
// with a timer, all rejected the moment the connection ends), and the peer's requests being
// handled, within a budget so that no peer can make us hold more of its work than that.
import { MAX_REQUEST_ID, type RequestFrame, type ResponseBody, type ResponseFrame } from './codec';
import { RequestFailedError, type RequestFailureCode } from './errors';
import type { Clock, DropReason, RequestErrorCode, RequestStats } from './types';

/** What the exchange needs from its connection. */
export interface RequestLink {
  /** Names the peer in error messages. */
  peerName(): string;
  /** Encodes `frame` and queues it behind the frames already waiting, or says why not. */
  enqueue(frame: RequestFrame | ResponseFrame): 'queued' | DropReason;
  /** Has the transport answer a request of the peer's; never rejects. */
  handle(classTag: string, payload: Uint8Array): Promise<ResponseBody>;
}

export interface RequestLimits {
  /** Requests from the peer handled at once; more are answered BUSY. */
  maxIncomingRequests: number;
  /** Payload bytes of requests from the peer handled at once; more are answered BUSY. */
  maxIncomingRequestBytes: number;
}

const FAILURE_BY_DROP: Record<DropReason, RequestFailureCode> = {
  notConnected: 'NOT_CONNECTED',
  classNotShared: 'CLASS_NOT_SHARED',
  tooLarge: 'TOO_LARGE',
  queueFull: 'QUEUE_FULL',
};

interface Waiter {
  resolve(payload: Uint8Array): void;
  reject(error: RequestFailedError): void;
  timer: unknown;
}

export class RequestExchange {
  /** Our requests in flight, by request id. */
  private readonly waiting = new Map<number, Waiter>();
  private lastId = 0;
  /** The peer's requests being handled. Invariant: servingCount <= maxIncomingRequests, servingBytes <= maxIncomingRequestBytes. */
  private servingCount = 0;
  private servingBytes = 0;

  constructor(
    private readonly link: RequestLink,
    private readonly limits: RequestLimits,
    private readonly clock: Clock,
    /** The transport's counters, updated in place. */
    private readonly counters: RequestStats,
  ) {}

  /** Our requests waiting for their answer. */
  get pending(): number {
    return this.waiting.size;
  }

  /** The peer's requests being handled. */
  get serving(): number {
    return this.servingCount;
  }

  /** Queues a request and waits for its answer; the connection has checked that the class is shared. */
  send(classTag: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const requestId = this.nextId();
    let outcome: 'queued' | DropReason;
    try {
      outcome = this.link.enqueue({ kind: 'request', classTag, requestId, payload });
    } catch (error) {
      return Promise.reject(error);
    }
    if (outcome !== 'queued') return refused(FAILURE_BY_DROP[outcome], `request to ${this.link.peerName()} not sent: ${outcome}`);
    this.counters.sent++;
    // Registered after queueing is early enough: the answer arrives in a later socket event.
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new RequestFailedError('TIMEOUT', `no answer from ${this.link.peerName()} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, { resolve, reject, timer });
    });
  }

  /** Settles the request `response` answers; one that matches none in flight is only counted. */
  receiveResponse(response: ResponseFrame): void {
    const waiter = this.waiting.get(response.requestId);
    if (!waiter) {
      this.counters.unmatchedResponses++;
      return;
    }
    this.waiting.delete(response.requestId);
    this.clock.clearTimeout(waiter.timer);
    if (response.status === 'ok') waiter.resolve(response.payload);
    else {
      const message = `${this.link.peerName()} answered ${response.errorCode}`;
      waiter.reject(new RequestFailedError('REMOTE_ERROR', message, response.errorCode));
    }
  }

  /** Has the peer's request handled and queues the answer; over the budget it is answered BUSY at once. */
  serve(request: RequestFrame): void {
    const bytes = request.payload.byteLength;
    if (this.servingCount >= this.limits.maxIncomingRequests || this.servingBytes + bytes > this.limits.maxIncomingRequestBytes) {
      this.counters.refusedBusy++;
      this.answerError(request.requestId, 'BUSY');
      return;
    }
    this.servingCount++;
    this.servingBytes += bytes;
    this.counters.served++;
    void this.link
      .handle(request.classTag, request.payload)
      .catch((): ResponseBody => ({ status: 'error', errorCode: 'HANDLER_FAILED' }))
      .then((body) => {
        this.servingCount--;
        this.servingBytes -= bytes;
        this.answer(request.requestId, body);
      });
  }

  /** Answers a request with an error without handling it. */
  answerError(requestId: number, errorCode: RequestErrorCode): void {
    this.answer(requestId, { status: 'error', errorCode });
  }

  /** Rejects every request of ours in flight with DISCONNECTED: no answer will come on this connection. */
  rejectAll(reason: string): void {
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiters) {
      this.clock.clearTimeout(waiter.timer);
      waiter.reject(new RequestFailedError('DISCONNECTED', `connection to ${this.link.peerName()} closed: ${reason}`));
    }
  }

  /** An id no request in flight uses; ids count up from 1 and wrap after 2^32 − 1. */
  private nextId(): number {
    do {
      this.lastId = this.lastId >= MAX_REQUEST_ID ? 1 : this.lastId + 1;
    } while (this.waiting.has(this.lastId));
    return this.lastId;
  }

  /**
   * Queues an answer like any other frame. It is lost when the connection is gone (the peer
   * rejects DISCONNECTED) or the queue is full (counted; the peer times out): a peer that sends
   * requests and does not read cannot make us buffer answers without bound.
   */
  private answer(requestId: number, body: ResponseBody): void {
    let outcome = this.link.enqueue({ kind: 'response', requestId, ...body });
    if (outcome === 'tooLarge') {
      outcome = this.link.enqueue({ kind: 'response', requestId, status: 'error', errorCode: 'RESPONSE_TOO_LARGE' });
    }
    if (outcome === 'queueFull') this.counters.responsesDropped++;
  }
}

function refused(code: RequestFailureCode, message: string): Promise<never> {
  return Promise.reject(new RequestFailedError(code, message));
}
