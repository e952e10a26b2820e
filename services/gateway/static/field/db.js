// The phone's own store (IndexedDB): the queue of actions not yet sent, the photos and signatures
// as Blobs until uploaded, and the last answers seen (kv) for working offline.

const NAME = "field";
let opened = null;

function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("blobs");
        db.createObjectStore("kv");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

async function run(store, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = work(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** The value under `key` in `store`, or undefined. */
export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
/** Stores `value` (under `key` for stores without a key path); answers the key. */
export const put = (store, value, key) => run(store, "readwrite", (s) => (key === undefined ? s.put(value) : s.put(value, key)));
/** Removes `key` from `store`. */
export const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));
/** Every value of `store`, in key order. */
export const all = (store) => run(store, "readonly", (s) => s.getAll());
/** Every key of `store`, in order. */
export const keys = (store) => run(store, "readonly", (s) => s.getAllKeys());
/** Empties `store`. */
export const clear = (store) => run(store, "readwrite", (s) => s.clear());
