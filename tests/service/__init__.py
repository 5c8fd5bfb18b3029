"""Tests of service mode: run lock, schedule, scheduler, endpoints, startup checks, `leadscore run`."""
