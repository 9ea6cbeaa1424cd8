//! Work that arrives while earlier work of its kind is in flight, gathered into batches.
//!
//! At most `lanes` batches run at once, each in a task of its own that takes what waits when
//! it starts and, once done, what arrived meanwhile, until nothing waits. Under light load
//! each piece of work is a batch of its own, as if there were no lanes; under heavy load a
//! batch holds what arrived while the lanes were busy (up to `most`), which then shares one
//! round trip. GETs' row versions (`versions.rs`) come through here.

use std::collections::VecDeque;
use std::sync::Mutex;

pub(super) struct Lanes<J> {
    lanes: usize,
    most: usize,
    queue: Mutex<Queue<J>>,
}

struct Queue<J> {
    waiting: VecDeque<J>,
    /// Lanes running (each a task taking batches with [`Lanes::next`]).
    running: usize,
}

impl<J> Lanes<J> {
    /// At most `lanes` batches at once, of at most `most` pieces each.
    pub(super) fn new(lanes: usize, most: usize) -> Self {
        Self {
            lanes: lanes.max(1),
            most: most.max(1),
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                running: 0,
            }),
        }
    }

    /// Queues `job`. `true`: a lane is free, and the caller is to start it: a task that
    /// runs [`Lanes::next`]'s batches until it answers `None`.
    #[must_use]
    pub(super) fn push(&self, job: J) -> bool {
        let mut queue = self.queue.lock().expect("lanes lock");
        queue.waiting.push_back(job);
        let free = queue.running < self.lanes;
        if free {
            queue.running += 1;
        }
        free
    }

    /// A running lane's next batch, in the order its pieces arrived; `None`: nothing waits,
    /// and the lane has ended.
    pub(super) fn next(&self) -> Option<Vec<J>> {
        let mut queue = self.queue.lock().expect("lanes lock");
        if queue.waiting.is_empty() {
            queue.running -= 1;
            return None;
        }
        let taken = queue.waiting.len().min(self.most);
        Some(queue.waiting.drain(..taken).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_waits_for_a_lane_and_goes_in_batches_of_at_most_most() {
        let lanes = Lanes::new(2, 3);
        assert!(lanes.push(1), "lane A starts");
        assert!(lanes.push(2), "lane B starts");
        for job in 3..=7 {
            assert!(!lanes.push(job), "both lanes run: {job} waits");
        }
        assert_eq!(lanes.next(), Some(vec![1, 2, 3]), "A's first batch");
        assert_eq!(lanes.next(), Some(vec![4, 5, 6]), "B's");
        assert_eq!(lanes.next(), Some(vec![7]), "A's second");
        assert_eq!(lanes.next(), None, "B finds nothing and ends");
        assert!(lanes.push(8), "a lane is free again: lane C starts");
        assert!(!lanes.push(9), "A and C run: 9 waits");
        assert_eq!(lanes.next(), Some(vec![8, 9]), "A takes both");
        assert_eq!(lanes.next(), None, "C ends");
        assert_eq!(lanes.next(), None, "A ends");
        assert!(
            lanes.push(10),
            "with no lane running, the next piece starts one"
        );
    }
}
